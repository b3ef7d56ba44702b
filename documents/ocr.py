"""Files to pages, pages to recognised lines.

An upload is sniffed by its first bytes (PNG, JPEG, TIFF, WebP, BMP, PDF), never by its name
or declared type. Images are decoded with Pillow; PDFs are rendered page by page with pdfium
at 150 dpi (text-layer and scanned PDFs alike, so one set of layout rules reads both). Lines
are recognised with RapidOCR on ONNX Runtime, whose Chinese detection, orientation and
recognition models ship inside the `rapidocr-onnxruntime` wheel: nothing is downloaded.
"""

from __future__ import annotations

import io
import math
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from PIL import Image, UnidentifiedImageError

from documents.errors import FileTooLarge, UnreadableFile, UnsupportedFile

MAX_BYTES = 10 * 1024 * 1024  # an upload, image or PDF
MAX_PAGES = 5  # a licence or an invoice is one page; a few scans of one, at most
MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding them
PDF_DPI = 150


class MediaType(StrEnum):
    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    WEBP = "image/webp"
    BMP = "image/bmp"
    PDF = "application/pdf"


_MAGIC: tuple[tuple[bytes, MediaType], ...] = (
    (b"\x89PNG\r\n\x1a\n", MediaType.PNG),
    (b"\xff\xd8\xff", MediaType.JPEG),
    (b"II*\x00", MediaType.TIFF),
    (b"MM\x00*", MediaType.TIFF),
    (b"BM", MediaType.BMP),
    (b"%PDF-", MediaType.PDF),
)


def sniff(data: bytes) -> MediaType:
    """The file's type from its first bytes; UnsupportedFile when it is none this reads."""
    if len(data) > MAX_BYTES:
        raise FileTooLarge(f"a document is at most {MAX_BYTES} bytes, this one is {len(data)}")
    if not data:
        raise UnsupportedFile("the upload is empty")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return MediaType.WEBP
    # A PDF may carry a few bytes of junk before its header.
    if b"%PDF-" in data[:1024]:
        return MediaType.PDF
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media
    raise UnsupportedFile(
        "not a document this service reads: send a PNG, JPEG, TIFF, WebP or BMP image or a PDF"
    )


def load_pages(data: bytes) -> tuple[MediaType, list[Image.Image]]:
    """The file's pages as RGB images; UnreadableFile for a corrupt file or an empty PDF."""
    media = sniff(data)
    if media is MediaType.PDF:
        return media, _pdf_pages(data)
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                raise UnreadableFile(f"the image has more than {MAX_PIXELS} pixels")
            img.load()
            return media, [img.convert("RGB")]
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError,
            ValueError) as e:  # fmt: skip
        raise UnreadableFile(f"the {media.value} image cannot be decoded: {e}") from e


def _pdf_pages(data: bytes) -> list[Image.Image]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        # pdfium refuses a well-formed PDF without pages at load, reporting no error (0).
        if getattr(e, "err_code", None) == 0:
            raise UnreadableFile("the PDF has no pages") from e
        raise UnreadableFile(f"the PDF cannot be opened: {e}") from e
    try:
        if len(pdf) == 0:
            raise UnreadableFile("the PDF has no pages")
        if len(pdf) > MAX_PAGES:
            raise UnreadableFile(f"a document has at most {MAX_PAGES} pages, this PDF {len(pdf)}")
        pages = []
        for i in range(len(pdf)):
            w, h = pdf[i].get_size()
            if w * h * (PDF_DPI / 72) ** 2 > MAX_PIXELS:
                raise UnreadableFile(f"page {i + 1} is too large to render")
            pages.append(pdf[i].render(scale=PDF_DPI / 72).to_pil().convert("RGB"))
        return pages
    finally:
        pdf.close()


@dataclass(frozen=True, slots=True)
class Line:
    """One recognised line: its text, its box (left, top, right, bottom in pixels) and the
    recogniser's confidence in [0, 1]."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


class Recogniser:
    """RapidOCR, loaded once per process (about a second) and shared; calls are serialised
    because one ONNX session already uses every core it is given."""

    def __init__(self, threads: int = 0) -> None:
        self._threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR

            kwargs: dict[str, Any] = {}
            if self._threads:
                kwargs = {"intra_op_num_threads": self._threads}
            self._engine = RapidOCR(**kwargs)
        return self._engine

    def lines(self, page: Image.Image) -> list[Line]:
        """The page's lines, top to bottom, left to right."""
        import numpy as np

        # The red channel alone: a red seal is near white in it, black and blue text stays
        # dark, so a stamp over a line no longer takes characters out of it.
        gray = np.asarray(page.convert("RGB").getchannel("R"))
        with self._lock:
            engine = self._get()
            result, _ = engine(np.stack([gray, gray, gray], axis=-1))
        boxes = [[(float(p[0]), float(p[1])) for p in box] for box, _, _ in result or []]
        # Undo the page's skew (a scan turned by a few degrees) so that a row stays a row:
        # the median angle of the top edges of long boxes, turned back around the origin.
        angles = sorted(
            math.atan2(b[1][1] - b[0][1], b[1][0] - b[0][0])
            for b in boxes
            if math.dist(b[0], b[1]) > 3 * math.dist(b[1], b[2])
        )
        a = angles[len(angles) // 2] if angles else 0.0
        cos, sin = math.cos(a), math.sin(a)
        out = []
        for box, (_, text, score) in zip(boxes, result or [], strict=True):
            xs = [x * cos + y * sin for x, y in box]
            ys = [y * cos - x * sin for x, y in box]
            out.append(Line(str(text), min(xs), min(ys), max(xs), max(ys), float(score)))
        out.sort(key=lambda ln: (round(ln.cy / 10), ln.x0))
        return out


_shared = Recogniser()


def recognise(pages: list[Image.Image], recogniser: Recogniser | None = None) -> list[Line]:
    """Every page's lines; later pages are placed below earlier ones."""
    rec = recogniser or _shared
    out: list[Line] = []
    offset = 0.0
    for page in pages:
        for ln in rec.lines(page):
            out.append(Line(ln.text, ln.x0, ln.y0 + offset, ln.x1, ln.y1 + offset, ln.score))
        offset += page.height
    return out


def timed_recognise(pages: list[Image.Image]) -> tuple[list[Line], float]:
    start = time.perf_counter()
    lines = recognise(pages)
    return lines, time.perf_counter() - start
