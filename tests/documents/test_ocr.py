"""OCR and layout rules on a handful of generated, damaged pages (stamp, ±3°, blur, JPEG 60,
150 dpi): the accuracy the bench measures on many pages, asserted on a few. A PDF of a page
(a scan, no text layer) reads like the image, through OCR."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from documents.evaluate import score
from documents.fields import DocumentKind, extract
from documents.ocr import MediaType, ReadMethod, load_pages, read, recognise
from documents.synth import make_samples

pytestmark = pytest.mark.slow


def test_fields_read_from_damaged_pages() -> None:
    samples = make_samples(4, seed=11)
    report = score(samples)
    assert report.pages == 4
    wrong = {n: s.wrong for n, s in report.fields.items() if s.wrong}
    assert wrong == {}  # a value is right or marked for a person, never silently wrong
    right = sum(s.right for s in report.fields.values())
    total = sum(s.n for s in report.fields.values())
    assert right / total >= 0.95, report.as_dict()
    assert report.uscc_exact == report.uscc_pages == 2


def test_a_pdf_page_is_read_like_the_image() -> None:
    sample = make_samples(1, seed=12)[0]
    buf = io.BytesIO()
    Image.open(io.BytesIO(sample.image)).save(buf, "PDF", resolution=150)
    media, pages = load_pages(buf.getvalue())
    assert (media, len(pages)) == (MediaType.PDF, 1)
    ex = extract(DocumentKind.LICENCE, recognise(pages))
    assert ex.accepted("uscc") == sample.truth["uscc"]
    assert ex.accepted("name") == sample.truth["name"]
    reading = read(buf.getvalue())  # no text layer: rendered and recognised
    assert reading.methods == (ReadMethod.OCR,)
    assert extract(DocumentKind.LICENCE, reading.lines).accepted("uscc") == sample.truth["uscc"]
