"""Opening PDFs with pdfium (documents/pdfs.py): a PDF without pages is told apart from a
corrupt one whatever was read before it (pdfium's error code is what the previous load left:
an empty PDF read after a corrupt one used to be refused as corrupt, a CI run's failure), and
no two threads use pdfium at once."""

from __future__ import annotations

import io
import threading
import time

import pypdfium2 as pdfium
import pytest

from documents.errors import UnreadableFile
from documents.pdfs import PDFIUM, opened


def _pdf(pages: int) -> bytes:
    doc = pdfium.PdfDocument.new()
    for _ in range(pages):
        doc.new_page(200, 100)
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    return buf.getvalue()


EMPTY, ONE_PAGE = _pdf(0), _pdf(1)
CORRUPT = b"%PDF-1.7\n" + b"garbage" * 20


def _refusal(data: bytes) -> str:
    with pytest.raises(UnreadableFile) as e, opened(data, UnreadableFile):
        pass
    return str(e.value)


def test_an_empty_pdf_is_told_from_a_corrupt_one_in_any_order() -> None:
    for data, says in ((EMPTY, "the PDF has no pages"), (CORRUPT, "the PDF cannot be opened"),
                       (EMPTY, "the PDF has no pages"), (EMPTY, "the PDF has no pages"),
                       (CORRUPT, "the PDF cannot be opened")):  # fmt: skip
        assert _refusal(data).startswith(says)
    with opened(ONE_PAGE, UnreadableFile) as pdf:
        assert len(pdf) == 1


def test_pdfium_is_used_by_one_thread_at_a_time() -> None:
    """While one thread holds a document open, another's open waits for it."""
    order: list[str] = []
    inside = threading.Event()

    def hold() -> None:
        with opened(ONE_PAGE, UnreadableFile):
            order.append("first in")
            inside.set()
            time.sleep(0.2)
            order.append("first out")

    t = threading.Thread(target=hold)
    t.start()
    inside.wait(5)
    with opened(ONE_PAGE, UnreadableFile):
        order.append("second in")
    t.join()
    assert order == ["first in", "first out", "second in"]
    assert PDFIUM.acquire(blocking=False)  # released after use
    PDFIUM.release()
