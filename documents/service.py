"""One upload, end to end: checked, read, verified against the graph, stored.

Everything that can refuse an upload (size, type, a corrupt image, a PDF with no pages, a
reference the graph does not have, a page that is neither a licence nor an invoice) refuses
it before anything is written: a refused upload leaves no `Document`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from dataclasses import asdict
from typing import Any

from neo4j import Driver

from documents.errors import DocumentsError, NotADocument, UnknownReference
from documents.fields import DocumentKind, Extraction, detect_kind, extract
from documents.ocr import Recogniser, load_pages, recognise
from documents.verify import Verification, invoice_key, verify_invoice, verify_licence
from graph.queries import documents as q


def process_upload(
    driver: Driver,
    database: str,
    data: bytes,
    *,
    username: str,
    kind: DocumentKind | None = None,
    enterprise_id: str | None = None,
    invoice_id: str | None = None,
    recogniser: Recogniser | None = None,
) -> dict[str, Any]:
    """Read, verify and store one document; the stored Document as a dict."""
    file_hash = hashlib.sha256(data).hexdigest()
    media, pages = load_pages(data)
    claimed = None
    if enterprise_id is not None:
        claimed = q.enterprise_by_id(driver, database, enterprise_id)
        if claimed is None:
            raise UnknownReference(f"no enterprise {enterprise_id}")
    facts = None
    if invoice_id is not None:
        facts = q.invoice_facts(driver, database, invoice_id)
        if facts is None:
            raise UnknownReference(f"no invoice {invoice_id}")
    if kind is DocumentKind.INVOICE and facts is None:
        raise DocumentsError("an invoice is checked against the graph's invoice: give invoiceId")

    start = time.perf_counter()
    lines = recognise(pages, recogniser)
    ocr_seconds = time.perf_counter() - start
    found = detect_kind(lines)
    if found is None:
        raise NotADocument("no business licence or VAT invoice was found on the page")
    if kind is not None and found is not kind:
        raise NotADocument(f"the page is a {found}, not a {kind}")
    if found is DocumentKind.INVOICE and facts is None:
        raise DocumentsError("an invoice is checked against the graph's invoice: give invoiceId")

    ex = extract(found, lines)
    v: Verification
    if found is DocumentKind.LICENCE:
        uscc = ex.fields["uscc"].value
        rows = q.enterprise_by_uscc(driver, database, uscc) if uscc else []
        v = verify_licence(ex, rows, claimed)
    else:
        assert facts is not None
        key = invoice_key(ex)
        seen = q.seen_invoice_key(driver, database, key) if key else []
        v = verify_invoice(ex, facts, seen)
        if enterprise_id is not None and enterprise_id not in _parties(facts):
            raise DocumentsError(f"{enterprise_id} is not a party to invoice {invoice_id}")

    props = {
        "id": f"DOC-{uuid.uuid4().hex[:20]}",
        "kind": found.value,
        "file_hash": file_hash,
        "media_type": media.value,
        "size_bytes": len(data),
        "pages": len(pages),
        "fields": fields_json(ex),
        "for_review": ex.for_review,
        "outcome": v.outcome.value,
        "reasons": v.reasons,
        "invoice_key": invoice_key(ex) if found is DocumentKind.INVOICE else None,
        "enterprise_id": v.enterprise_id or enterprise_id,
        "invoice_id": v.invoice_id,
        "uploaded_by": username,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "ocr_seconds": round(ocr_seconds, 3),
    }
    doc_id = q.create_document(driver, database, {k: x for k, x in props.items() if x is not None})
    stored = q.get_document(driver, database, doc_id)
    assert stored is not None
    return stored


def _parties(facts: dict[str, Any]) -> set[str]:
    return {p["id"] for p in (facts.get("seller"), facts.get("buyer")) if p}


def fields_json(ex: Extraction) -> str:
    return json.dumps({n: asdict(f) for n, f in ex.fields.items()}, ensure_ascii=False)
