"""PDFs with a text layer (an e-invoice, a licence printed to PDF) are read from that layer,
with positions and confidence 1.0, by the same layout rules and without OCR; only pages
without one are rendered and recognised. The PDFs are the generated pages laid out again by
WeasyPrint, which embeds their text."""

from __future__ import annotations

import ctypes
import io
import random

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
import pytest
from PIL import Image

from documents.errors import UnreadableFile
from documents.fields import DocumentKind, detect_kind, extract
from documents.ocr import Line, MediaType, ReadMethod, Recogniser, read
from documents.synth import (
    invoice_pdf,
    licence_pdf,
    make_firms,
    make_invoice,
    render_invoice,
    truth_of,
)


class CountingRecogniser(Recogniser):
    """Counts OCR calls and answers canned lines instead of recognising."""

    def __init__(self, lines: list[Line] | None = None) -> None:
        super().__init__()
        self.calls = 0
        self._canned = lines or []

    def lines(self, page: Image.Image) -> list[Line]:
        self.calls += 1
        return list(self._canned)


@pytest.fixture(scope="module")
def firms() -> list[dict[str, str]]:
    return make_firms(4, seed=31)


def _invoice(firms: list[dict[str, str]]) -> dict[str, str]:
    return make_invoice(firms[0], firms[1], random.Random(31))


def test_an_e_invoice_is_read_from_its_text_layer_without_ocr(firms: list[dict[str, str]]) -> None:
    v = _invoice(firms)
    rec = CountingRecogniser()
    reading = read(invoice_pdf(v), rec)
    assert rec.calls == 0  # no page was rendered for OCR
    assert (reading.media, reading.methods) == (MediaType.PDF, (ReadMethod.TEXT_LAYER,))
    assert reading.method is ReadMethod.TEXT_LAYER
    kind = detect_kind(reading.lines)
    assert kind is DocumentKind.INVOICE
    ex = extract(kind, reading.lines, reading.methods)
    assert ex.read == ("text_layer",)
    truth = truth_of(DocumentKind.INVOICE, v)
    assert {n: ex.accepted(n) for n in truth} == truth  # every field, exact
    assert ex.for_review == []
    assert all(f.confidence == 1.0 for f in ex.fields.values())


def test_a_licence_pdf_is_read_from_its_text_layer(firms: list[dict[str, str]]) -> None:
    rec = CountingRecogniser()
    reading = read(licence_pdf(firms[2]), rec)
    assert rec.calls == 0 and reading.methods == (ReadMethod.TEXT_LAYER,)
    ex = extract(DocumentKind.LICENCE, reading.lines, reading.methods)
    truth = truth_of(DocumentKind.LICENCE, firms[2])
    assert {n: ex.accepted(n) for n in truth} == truth  # the scope over its lines included
    assert ex.for_review == []


def _pdf_of_image(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PDF", resolution=150)
    return buf.getvalue()


def test_a_scanned_page_is_recognised_and_said_so(firms: list[dict[str, str]]) -> None:
    canned = [Line("发票号码：01234567", 1200, 120, 1500, 160, 0.97)]
    rec = CountingRecogniser(canned)
    reading = read(_pdf_of_image(render_invoice(_invoice(firms))), rec)
    assert rec.calls == 1
    assert reading.methods == (ReadMethod.OCR,) and reading.method is ReadMethod.OCR
    assert [ln.text for ln in reading.lines] == ["发票号码：01234567"]
    # An image upload is recognised too.
    buf = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buf, "PNG")
    assert read(buf.getvalue(), rec).methods == (ReadMethod.OCR,) and rec.calls == 2


def test_each_page_is_read_its_own_way(firms: list[dict[str, str]]) -> None:
    """A text page and a scan in one PDF: the first from its layer, the second by OCR, its
    lines placed below the first page's. A page with a stray line of text is a scan."""
    text = pdfium.PdfDocument(invoice_pdf(_invoice(firms)))
    scan = pdfium.PdfDocument(_pdf_of_image(render_invoice(_invoice(firms))))
    from weasyprint import HTML

    stray = pdfium.PdfDocument(HTML(string="<p>第 1 页</p>").write_pdf())
    text.import_pages(scan)
    text.import_pages(stray)
    buf = io.BytesIO()
    text.save(buf)
    for doc in (text, scan, stray):
        doc.close()
    rec = CountingRecogniser([Line("销售方", 110, 940, 200, 980, 0.99)])
    reading = read(buf.getvalue(), rec)
    assert reading.methods == (ReadMethod.TEXT_LAYER, ReadMethod.OCR, ReadMethod.OCR)
    assert rec.calls == 2 and reading.pages == 3 and reading.method is ReadMethod.OCR
    first_page = [ln for ln in reading.lines if ln.score == 1.0]
    ocr = [ln for ln in reading.lines if ln.score != 1.0]
    assert len(ocr) == 2 and min(o.y0 for o in ocr) > max(ln.y1 for ln in first_page)


def _pdf_with_text(text: str, render_mode: int) -> bytes:
    """One page with three lines of ``text`` in Helvetica, drawn in ``render_mode`` (0 fill,
    3 invisible: how a scanner lays its own OCR over the image)."""
    pdf = pdfium.PdfDocument.new()
    page = pdf.new_page(600, 400)
    for i in range(3):
        obj = pdfium_raw.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", 12.0)
        buf = ctypes.create_string_buffer((text + "\x00").encode("utf-16-le"))
        pdfium_raw.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(pdfium_raw.FPDF_WCHAR)))
        pdfium_raw.FPDFTextObj_SetTextRenderMode(obj, render_mode)
        pdfium_raw.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 50, 300 - 30 * i)
        pdfium_raw.FPDFPage_InsertObject(page.raw, obj)
    pdfium_raw.FPDFPage_GenerateContent(page.raw)
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def test_invisible_text_over_a_scan_is_not_trusted() -> None:
    visible = read(_pdf_with_text("Invoice 0123456789 0123456789", 0), CountingRecogniser())
    assert visible.methods == (ReadMethod.TEXT_LAYER,)
    assert [ln.text for ln in visible.lines] == ["Invoice 0123456789 0123456789"] * 3
    rec = CountingRecogniser()
    hidden = read(_pdf_with_text("Invoice 0123456789 0123456789", 3), rec)
    assert hidden.methods == (ReadMethod.OCR,) and rec.calls == 1


def test_a_broken_pdf_is_refused_as_before() -> None:
    with pytest.raises(UnreadableFile, match="cannot be opened"):
        read(b"%PDF-1.7\nnot a pdf", CountingRecogniser())
    # An empty PDF right after a corrupt one is still told as empty (documents.pdfs).
    empty = pdfium.PdfDocument.new()
    buf = io.BytesIO()
    empty.save(buf)
    empty.close()
    with pytest.raises(UnreadableFile, match="has no pages"):
        read(buf.getvalue(), CountingRecogniser())
