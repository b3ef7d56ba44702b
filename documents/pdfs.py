"""Opening a PDF with pdfium, one way for every reader of the package (OCR, contract review,
signed contracts).

Two facts about pdfium decide how:

- It refuses a well-formed PDF without pages at load, and the error code it then gives is
  process-wide state that an earlier load may have left (a corrupt file read before makes an
  empty one look corrupt). A refusal is therefore told apart by reading the page tree with
  pyHanko's own reader: "the PDF has no pages" when it declares none, else "cannot be
  opened".
- It is not thread-safe: no two threads may call it at the same time, not even on different
  documents (pypdfium2's documentation). The API reads uploads in its thread pool, so every
  use of pdfium in this process holds `PDFIUM`, from opening a document to closing it.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

PDFIUM = threading.RLock()


def declared_pages(data: bytes) -> int | None:
    """The page count the PDF's page tree declares, None when it cannot be read."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        count = PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"]
        return int(count)
    except Exception:  # any failure: the file is not a readable PDF
        return None


@contextmanager
def opened(data: bytes, refuse: Callable[[str], Exception]) -> Iterator[Any]:
    """The PDF as a pdfium document, under `PDFIUM`, closed at the end. A file pdfium cannot
    load raises ``refuse("the PDF has no pages")`` or ``refuse("the PDF cannot be opened:
    ...")``; so does a document of no pages that loads."""
    import pypdfium2 as pdfium

    with PDFIUM:
        try:
            pdf = pdfium.PdfDocument(data)
        except pdfium.PdfiumError as e:
            if declared_pages(data) == 0:
                raise refuse("the PDF has no pages") from e
            raise refuse(f"the PDF cannot be opened: {e}") from e
        try:
            if len(pdf) == 0:
                raise refuse("the PDF has no pages")
            yield pdf
        finally:
            pdf.close()
