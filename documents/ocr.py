"""Files to pages, pages to recognised lines.

An upload is sniffed by its first bytes (PNG, JPEG, TIFF, WebP, BMP, PDF), never by its name
or declared type. Images are decoded with Pillow; PDFs are rendered page by page with pdfium
at 150 dpi. Lines are recognised with RapidOCR on ONNX Runtime, whose Chinese detection,
orientation and recognition models ship inside the `rapidocr-onnxruntime` wheel: nothing is
downloaded.

`read` reads a PDF page that has a text layer (an e-invoice, a licence printed to PDF)
from that layer instead: pdfium's characters and their boxes, grouped into lines with boxes
in the same 150 dpi pixels, with confidence 1.0, so that the same layout rules read both.
Only pages without one (a scan, too little text, or text drawn invisible over a scan) are
rendered and recognised.
"""

from __future__ import annotations

import io
import itertools
import math
import threading
import time
import unicodedata
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from PIL import Image, UnidentifiedImageError

from documents.errors import FileTooLarge, UnreadableFile, UnsupportedFile
from documents.pdfs import opened

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


def _check_pages(pdf: Any) -> None:
    if len(pdf) > MAX_PAGES:
        raise UnreadableFile(f"a document has at most {MAX_PAGES} pages, this PDF {len(pdf)}")


def _render(page: Any, i: int) -> Image.Image:
    w, h = page.get_size()
    if w * h * (PDF_DPI / 72) ** 2 > MAX_PIXELS:
        raise UnreadableFile(f"page {i + 1} is too large to render")
    image: Image.Image = page.render(scale=PDF_DPI / 72).to_pil().convert("RGB")
    return image


def _pdf_pages(data: bytes) -> list[Image.Image]:
    with opened(data, UnreadableFile) as pdf:
        _check_pages(pdf)
        return [_render(pdf[i], i) for i in range(len(pdf))]


@dataclass(frozen=True, slots=True)
class Doubt:
    """A place in a line where the recogniser hesitated (`_Decoder`).

    ``at`` indexes the line's text: the character read there (``missing`` False), or the
    gap before it, where the recogniser saw a character it did not write (``missing`` True;
    ``at`` may be the text's length, after its last character). ``p`` is the probability
    of what was read (the character, or no character at all), ``alternatives`` what else it
    saw there, most likely first, with probabilities."""

    at: int
    missing: bool
    p: float
    alternatives: tuple[tuple[str, float], ...]

    @property
    def strong(self) -> bool:
        """Whether the recogniser hesitated enough for the value to go to a person when the
        lexicon does not settle it (`CHAR_DOUBT_BELOW`, `MISSING_DOUBT_ABOVE`); a weaker
        doubt is kept for the lexicon alone."""
        return 1.0 - self.p >= MISSING_DOUBT_ABOVE if self.missing else self.p < CHAR_DOUBT_BELOW

    def describe(self, text: str) -> str:
        seen = ", ".join(f"{c} {p:.2f}" for c, p in self.alternatives) or "nothing legible"
        if self.missing:
            after = f" after {text[self.at - 1]}" if self.at > 0 else " at the start"
            return f"a character may be missing{after} (saw {seen})"
        return f"{text[self.at]} read at {self.p:.2f} (or {seen})"


@dataclass(frozen=True, slots=True)
class Line:
    """One recognised line: its text, its box (left, top, right, bottom in pixels), the
    recogniser's confidence in [0, 1] (the mean over its characters) and where it doubted
    a character (a text layer's lines have none)."""

    text: str
    x0: float
    y0: float
    x1: float
    y1: float
    score: float
    doubts: tuple[Doubt, ...] = ()

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0


# Pixels (of the red channel) at least this fraction as light as the paper are made paper.
PAPER_LEVEL = 0.90
# A character read with less probability than this is doubted (`Doubt.strong`), whatever its
# line's mean; RapidOCR's own score is that mean, so one uncertain character in a long line
# hides. A frame the recogniser decoded as no character while giving at least
# `MISSING_DOUBT_ABOVE` to some character (not the one written beside it) is doubted as a
# character that may be missing.
CHAR_DOUBT_BELOW = 0.90
MISSING_DOUBT_ABOVE = 0.20
# Weaker doubts, down to these, are kept for the lexicon (`documents.lexicon`) to settle;
# one it does not settle is let be.
WEAK_CHAR_BELOW = 0.97
WEAK_MISSING_ABOVE = 0.05
_ALTERNATIVES = 3
_ALTERNATIVE_ABOVE = 0.02


def _read_as(c: str) -> str:
    form = unicodedata.normalize("NFKC", c).strip()
    return "一" if form in ("-", "—", "_", "~") else form


class _Decoder:
    """RapidOCR's CTC decode (best path, repeats merged, blanks dropped: the same text and the
    same mean confidence), which also keeps the places the recogniser doubted: a character
    read with low probability, with what else it saw there, and a frame between characters
    where it saw a character and wrote none. RapidOCR's recogniser cannot read some rare
    characters even on a clean page (胴 in 牛胴体, 坯 in 钢坯: it writes 牛体 and 钢坏 at line
    confidences of 0.97 and over); on a scan, such a line has a doubt where the character
    is (`tests/documents/test_lexicon.py`)."""

    def __init__(self, character: list[str]) -> None:
        self.character = character
        # Each character as read (`fields.clean`: NFKC, no spaces, a dash between Chinese
        # characters is 一): ；and ; or ￥ and ¥ are one, and so are 一 and a dash; a space
        # is nothing; 0 is the blank, no character.
        self._forms = [""] + [_read_as(c) for c in character[1:]]
        self._by_form: dict[str, list[int]] = {}
        for j, form in enumerate(self._forms):
            self._by_form.setdefault(form, []).append(j)

    def __call__(self, preds: Any, return_word_box: bool = False, **_: Any) -> list[Any]:
        import numpy as np

        out = []
        for p in preds:
            idx, prob = p.argmax(axis=1), p.max(axis=1)
            keep = idx != 0
            keep[1:] &= idx[1:] != idx[:-1]
            ts = np.flatnonzero(keep)
            text = "".join(self.character[int(idx[t])] for t in ts)
            score = float(np.mean(prob[ts])) if len(ts) else 0.0
            out.append((text, score, self._doubts(p, idx, prob, ts)))
        return out

    def _seen(self, row: Any, like: str) -> tuple[tuple[str, float], ...]:
        """The legible characters at a frame, most likely first, other than ``like``."""
        out: list[tuple[str, float]] = []
        for j in row.argsort()[::-1][:12]:
            c = self._forms[int(j)]
            if row[j] < _ALTERNATIVE_ABOVE or len(out) == _ALTERNATIVES:
                break
            if c and c != like and c not in (x for x, _ in out):
                out.append((c, round(float(row[j]), 2)))
        return tuple(out)

    def _mass(self, row: Any, like: str) -> float:
        """The probability a frame gives to ``like`` in any of its forms."""
        return float(row[self._by_form[like]].sum())

    def _doubts(self, p: Any, idx: Any, prob: Any, ts: Any) -> tuple[Doubt, ...]:
        import numpy as np

        doubts: list[Doubt] = []
        for k, t in enumerate(ts):
            like = self._forms[int(idx[t])]
            if prob[t] >= WEAK_CHAR_BELOW or not like:
                continue
            mass = self._mass(p[t], like)
            seen = self._seen(p[t], like)
            # Doubted when another legible character takes the difference; a character that
            # is only perhaps there (the rest of its frame blank) is left to the field's checks.
            if mass < WEAK_CHAR_BELOW and seen:
                doubts.append(Doubt(k, False, round(mass, 2), seen))
        blank = p[:, self._by_form[""]].sum(axis=1)  # no character or a space: nothing read
        for t in np.flatnonzero((idx == 0) & (1.0 - blank >= WEAK_MISSING_ABOVE)):
            k = int(np.searchsorted(ts, t))
            beside = {self._forms[int(idx[ts[j]])] for j in (k - 1, k) if 0 <= j < len(ts)}
            seen = self._seen(p[t], "")
            if not seen or seen[0][0] in beside:
                continue  # the tail of the character written beside it
            d = Doubt(k, True, round(float(blank[t]), 2), seen)
            if doubts and doubts[-1].missing and doubts[-1].at == k:
                if d.p < doubts[-1].p:  # one gap over several frames: its clearest frame
                    doubts[-1] = d
                continue
            doubts.append(d)
        return tuple(sorted(doubts, key=lambda d: (d.at, not d.missing)))


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
            engine = RapidOCR(**kwargs)
            rec = engine.text_rec
            rec.postprocess_op = _Decoder(rec.postprocess_op.character)
            self._engine = engine
        return self._engine

    def lines(self, page: Image.Image) -> list[Line]:
        """The page's lines, top to bottom, left to right."""
        import numpy as np

        # The red channel alone: a red seal is light in it, black and blue text stays dark.
        # Then anything at least `PAPER_LEVEL` as light as the paper (the page's 90th
        # percentile) is paper: what is left of a seal (its ring, its star, its own words,
        # which the recogniser otherwise reads into the line under it) goes, and the text
        # under it gets its contrast back. At 0.80 a thin 。 or ） at a line's end faded.
        red = np.asarray(page.convert("RGB").getchannel("R"), dtype=np.float32)
        white = max(PAPER_LEVEL * float(np.percentile(red, 90)), 1.0)
        gray = np.clip(red * (255.0 / white), 0, 255).astype(np.uint8)
        with self._lock:
            engine = self._get()
            result, _ = engine(np.stack([gray, gray, gray], axis=-1))
        boxes = [[(float(p[0]), float(p[1])) for p in row[0]] for row in result or []]
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
        for box, (_, text, score, doubts) in zip(boxes, result or [], strict=True):
            xs = [x * cos + y * sin for x, y in box]
            ys = [y * cos - x * sin for x, y in box]
            out.append(Line(str(text), min(xs), min(ys), max(xs), max(ys), float(score), doubts))
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
            out.append(replace(ln, y0=ln.y0 + offset, y1=ln.y1 + offset))
        offset += page.height
    return out


# --------------------------------------------------------------------------------------
# The text layer of a PDF
# --------------------------------------------------------------------------------------


class ReadMethod(StrEnum):
    TEXT_LAYER = "text_layer"  # the PDF's own text, with its positions
    OCR = "ocr"  # rendered (a PDF page) or decoded (an image) and recognised


# A page whose text layer has fewer characters than this (besides spaces) is read as a scan:
# a licence or an invoice prints far more, a scan may carry a stray page number.
MIN_TEXT_CHARS = 20
_INVISIBLE = 3  # FPDF_TEXTRENDERMODE_INVISIBLE: a scanner's own OCR laid over its image


@dataclass(frozen=True, slots=True)
class _Char:
    ch: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


def _page_chars(page: Any) -> list[_Char] | None:
    """The page's characters in drawing order, with boxes in pixels at `PDF_DPI` (top-left
    origin); None when the page has no usable text layer: too few characters, glyphs that
    map to no character, text drawn invisible (a scan with its OCR laid over), or a
    rotated page."""
    import pypdfium2.raw as raw

    if page.get_rotation() % 360:
        return None
    scale = PDF_DPI / 72
    _, height = page.get_size()
    tp = page.get_textpage()
    try:
        chars: list[_Char] = []
        unmapped = invisible = 0
        for i in range(tp.count_chars()):
            ch = tp.get_text_range(i, 1)
            if not ch or ch.isspace():
                continue
            if ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" or ord(ch) < 32:
                unmapped += 1
                continue
            obj = raw.FPDFText_GetTextObject(tp.raw, i)
            if obj and raw.FPDFTextObj_GetTextRenderMode(obj) == _INVISIBLE:
                invisible += 1
                continue
            left, bottom, right, top = tp.get_charbox(i, loose=True)
            chars.append(
                _Char(ch, left * scale, (height - top) * scale, right * scale,
                      (height - bottom) * scale)
            )  # fmt: skip
    finally:
        tp.close()
    if len(chars) < MIN_TEXT_CHARS or unmapped + invisible > len(chars) // 10:
        return None
    return chars


def _char_lines(chars: list[_Char]) -> list[Line]:
    """Characters grouped into lines as a recogniser would box them: a new line where the
    text leaves the row, goes back to the left, jumps right by more than a character's height
    (the gap between a label and its value in another cell) or changes its type size (a
    title beside a header). Confidence 1.0."""
    out: list[Line] = []
    cur: list[_Char] = []

    def flush() -> None:
        if cur:
            text = cur[0].ch
            for a, b in itertools.pairwise(cur):
                text += (" " if b.x0 - a.x1 > 0.2 * a.height else "") + b.ch
            out.append(Line(text, min(c.x0 for c in cur), min(c.y0 for c in cur),
                            max(c.x1 for c in cur), max(c.y1 for c in cur), 1.0))  # fmt: skip
            cur.clear()

    for c in chars:
        if cur:
            last = cur[-1]
            h = max(min(last.height, c.height), 1.0)
            if (abs(c.cy - last.cy) > 0.5 * h or c.x0 < last.x1 - h or c.x0 - last.x1 > h
                    or abs(c.height - last.height) > 0.3 * max(c.height, last.height)):  # fmt: skip
                flush()
        cur.append(c)
    flush()
    out.sort(key=lambda ln: (round(ln.cy / 10), ln.x0))
    return out


def text_layer_lines(page: Any) -> list[Line] | None:
    """A pdfium page's lines read from its text layer; None when it has none to read."""
    chars = _page_chars(page)
    return None if chars is None else _char_lines(chars)


@dataclass(frozen=True, slots=True)
class Reading:
    """A file's lines (later pages placed below earlier ones), how each page was read, and
    the seconds spent reading (text layer and recognition together)."""

    media: MediaType
    lines: list[Line]
    methods: tuple[ReadMethod, ...]
    seconds: float

    @property
    def pages(self) -> int:
        return len(self.methods)

    @property
    def doubted(self) -> bool:
        """Whether the recogniser doubted any character (`Doubt`)."""
        return any(ln.doubts for ln in self.lines)

    @property
    def method(self) -> ReadMethod:
        """`text_layer` when every page was read from it, else `ocr`."""
        if self.methods and all(m is ReadMethod.TEXT_LAYER for m in self.methods):
            return ReadMethod.TEXT_LAYER
        return ReadMethod.OCR


def read(data: bytes, recogniser: Recogniser | None = None) -> Reading:
    """A file's lines: a PDF page from its text layer when it has one, else recognised (an
    image, a scanned page). The same refusals as `load_pages`."""
    media = sniff(data)
    start = time.perf_counter()
    if media is not MediaType.PDF:
        _, images = load_pages(data)
        lines = recognise(images, recogniser)
        return Reading(media, lines, (ReadMethod.OCR,) * len(images),
                       time.perf_counter() - start)  # fmt: skip
    rec = recogniser or _shared
    # Each page's text-layer lines, or its image to recognise once pdfium is released (it
    # is held by one thread at a time, `documents.pdfs`; recognition takes seconds).
    read_pages: list[tuple[list[Line], float] | Image.Image] = []
    with opened(data, UnreadableFile) as pdf:
        _check_pages(pdf)
        for i in range(len(pdf)):
            page_lines = text_layer_lines(pdf[i])
            if page_lines is None:
                read_pages.append(_render(pdf[i], i))
            else:  # with the page's height in pixels, as a rendered page's
                read_pages.append((page_lines, pdf[i].get_size()[1] * PDF_DPI / 72))
    out: list[Line] = []
    methods: list[ReadMethod] = []
    offset = 0.0
    for item in read_pages:
        if isinstance(item, Image.Image):
            page_lines, height = rec.lines(item), float(item.height)
            methods.append(ReadMethod.OCR)
        else:
            page_lines, height = item
            methods.append(ReadMethod.TEXT_LAYER)
        for ln in page_lines:
            out.append(replace(ln, y0=ln.y0 + offset, y1=ln.y1 + offset))
        offset += height
    return Reading(media, out, tuple(methods), time.perf_counter() - start)


def timed_recognise(pages: list[Image.Image]) -> tuple[list[Line], float]:
    start = time.perf_counter()
    lines = recognise(pages)
    return lines, time.perf_counter() - start
