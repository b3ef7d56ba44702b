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

from documents import review
from documents.errors import DocumentsError, NotADocument, UnknownReference
from documents.fields import DocumentKind, Extraction, detect_kind, extract
from documents.lexicon import scope_lexicon
from documents.ocr import MediaType, Recogniser, read, sniff
from documents.verify import (
    ErCandidate,
    Verification,
    invoice_key,
    resolution_record,
    verify_invoice,
    verify_licence,
    wants_resolution,
)
from entity_resolution.errors import InvalidRecord
from entity_resolution.lookup import match_candidates
from graph.analytics.trade import FourFlow, four_flow_invoice
from graph.model import DEFAULT_FUNDER, DocumentOutcome
from graph.queries import documents as q

# How many of entity resolution's candidates a licence's reasons list.
ER_CANDIDATES = 3


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
    if kind is DocumentKind.CONTRACT or (kind is None and _text_layer_contract(data)):
        return _store_contract(driver, database, data, file_hash, username=username,
                               enterprise_id=enterprise_id, recogniser=recogniser)  # fmt: skip
    # Read first, so that a file that cannot be read is refused before anything is looked up.
    # A PDF page with a text layer (an e-invoice) is read from it; a scan or an image by OCR.
    reading = read(data, recogniser)
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

    lines, ocr_seconds = reading.lines, reading.seconds
    found = detect_kind(lines)
    if found is None:
        raise NotADocument("no business licence or VAT invoice was found on the page")
    if kind is not None and found is not kind:
        raise NotADocument(f"the page is a {found}, not a {kind}")
    if found is DocumentKind.INVOICE and facts is None:
        raise DocumentsError("an invoice is checked against the graph's invoice: give invoiceId")

    lexicon = scope_lexicon(q.goods_names(driver, database)) if reading.doubted else None
    ex = extract(found, lines, reading.methods, lexicon)
    v: Verification
    flows: FourFlow | None = None
    if found is DocumentKind.LICENCE:
        uscc = ex.fields["uscc"].value
        rows = q.enterprise_by_uscc(driver, database, uscc) if uscc else []
        candidates = resolve_licence(driver, database, ex) if wants_resolution(ex, rows) else []
        v = verify_licence(ex, rows, claimed, candidates)
    else:
        assert facts is not None
        if enterprise_id is not None and enterprise_id not in _parties(facts):
            raise DocumentsError(f"{enterprise_id} is not a party to invoice {invoice_id}")
        key = invoice_key(ex)
        seen = q.seen_invoice_key(driver, database, key) if key else []
        flows = four_flow_invoice(driver, database, facts["invoice"]["id"])
        v = verify_invoice(ex, facts, seen, flows.checks)

    props = {
        "id": f"DOC-{uuid.uuid4().hex[:20]}",
        "kind": found.value,
        "file_hash": file_hash,
        "media_type": reading.media.value,
        "size_bytes": len(data),
        "pages": reading.pages,
        "fields": fields_json(ex),
        "for_review": ex.for_review,
        "outcome": v.outcome.value,
        "reasons": v.reasons,
        "four_flow": None if flows is None else four_flow_json(flows),
        "invoice_key": invoice_key(ex) if found is DocumentKind.INVOICE else None,
        "enterprise_id": v.enterprise_id or enterprise_id,
        "invoice_id": v.invoice_id,
        "uploaded_by": username,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "ocr_seconds": round(ocr_seconds, 3),
        "text_method": reading.method.value,
    }
    doc_id = q.create_document(driver, database, {k: x for k, x in props.items() if x is not None})
    stored = q.get_document(driver, database, doc_id)
    assert stored is not None
    return stored


def resolve_licence(driver: Driver, database: str, ex: Extraction) -> list[ErCandidate]:
    """Entity resolution's best enterprises for a licence (`resolution_record`: its name,
    address, legal form and legal representative, not its USCC), with their graph facts."""
    record = resolution_record(ex)
    if record is None:
        return []
    try:
        found = match_candidates(driver, database, record, ER_CANDIDATES)
    except InvalidRecord:  # a name without a word to search for: no candidate
        return []
    facts = {r["enterprise"]["id"]: r for r in
             q.enterprises_by_ids(driver, database, [c.enterprise_id for c in found])}  # fmt: skip
    out = []
    for c in found:
        if c.enterprise_id not in facts:
            continue
        row, r = facts[c.enterprise_id], c.result
        out.append(ErCandidate(row["enterprise"], [str(p) for p in row["legal_reps"] if p],
                               r.score, r.same, r.threshold, r.blocked_by))  # fmt: skip
    return out


def four_flow_json(flows: FourFlow) -> str:
    """The four-flow check stored on an invoice's Document (`four_flow`)."""
    return json.dumps(
        {"invoice_id": flows.subject_id, "score": flows.score,
         "checks": [{"flow": c.flow.value, "present": c.present, "consistent": c.consistent,
                     "detail": c.detail} for c in flows.checks]},
        ensure_ascii=False,
    )  # fmt: skip


def _parties(facts: dict[str, Any]) -> set[str]:
    return {p["id"] for p in (facts.get("seller"), facts.get("buyer")) if p}


def fields_json(ex: Extraction) -> str:
    return json.dumps({n: asdict(f) for n, f in ex.fields.items()}, ensure_ascii=False)


# --------------------------------------------------------------------------------------
# Contracts for review (documents/review.py) and documents attached to applications
# --------------------------------------------------------------------------------------


def _text_layer_contract(data: bytes) -> bool:
    """A PDF whose text layer reads as a contract (an upload without `kind`)."""
    try:
        if sniff(data) is not MediaType.PDF:
            return False
        return review.is_contract(review.pdf_text(data))
    except DocumentsError:
        return False


def _store_contract(
    driver: Driver, database: str, data: bytes, file_hash: str, *, username: str,
    enterprise_id: str | None, recogniser: Recogniser | None,
) -> dict[str, Any]:  # fmt: skip
    """Read a contract (text layer or OCR), extract its elements, store it for review."""
    if enterprise_id is not None and q.enterprise_by_id(driver, database, enterprise_id) is None:
        raise UnknownReference(f"no enterprise {enterprise_id}")
    media = sniff(data)
    start = time.perf_counter()
    text, how, pages = review.read_contract(data, recogniser)
    elements = review.extract_elements(text)
    props = {
        "id": f"DOC-{uuid.uuid4().hex[:20]}",
        "kind": DocumentKind.CONTRACT.value,
        "file_hash": file_hash,
        "media_type": media.value,
        "size_bytes": len(data),
        "pages": pages,
        "fields": "{}",
        "for_review": [],
        # Not checked yet: `review_contract` compares it with an application or financing.
        "outcome": DocumentOutcome.NEEDS_REVIEW.value,
        "reasons": ["contract not reviewed yet against an application or financing"],
        "text": text,
        "text_method": how,
        "elements": json.dumps(elements.as_dict(), ensure_ascii=False),
        "enterprise_id": enterprise_id,
        "uploaded_by": username,
        "uploaded_at": _now_text(),
        "ocr_seconds": round(time.perf_counter() - start, 3),
    }
    doc_id = q.create_document(driver, database, {k: x for k, x in props.items() if x is not None})
    stored = q.get_document(driver, database, doc_id)
    assert stored is not None
    return stored


def _now_text() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def review_contract(
    driver: Driver, database: str, document_id: str, *, username: str,
    application_id: str | None = None, financing_id: str | None = None,
    book: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Review an uploaded contract against an application or a financing (of ``book``, the
    caller's funder; None: any) and store the review on its Document."""
    doc = q.get_document(driver, database, document_id)
    if doc is None:
        raise UnknownReference(f"no document {document_id}")
    if doc.get("kind") != DocumentKind.CONTRACT.value:
        raise DocumentsError(f"document {document_id} is a {doc.get('kind')}, not a contract")
    against = (f"application:{application_id}" if application_id is not None
               else f"financing:{financing_id}")  # fmt: skip
    row = q.contract_expected(driver, database, application_id, financing_id)
    funder = None if row is None else (row["application"].get("funder_id") or DEFAULT_FUNDER)
    if row is None or (book is not None and funder != book):
        raise UnknownReference(f"no {against.replace(':', ' ')}")
    expected = review.expected_from(against, row)
    kind = (row.get("financing") or {}).get("product_kind")
    expected.transfer = kind is None or kind in _TRANSFER_KINDS
    elements = review.ContractElements.from_dict(json.loads(doc["elements"]))
    differences = review.compare(elements, expected)
    summary = review.summary(differences)
    worth = [d for d in differences if d.severity is not review.Severity.LOW]
    props = {
        "review": json.dumps(
            {
                "against": against,
                "funder_id": funder,
                "summary": summary,
                "elements": elements.as_dict(),
                "expected": asdict(expected),
                "differences": [asdict(d) for d in differences],
            },
            ensure_ascii=False,
        ),
        "review_summary": summary,
        "reviewed_against": against,
        "reviewed_by": username,
        "reviewed_at": _now_text(),
        "outcome": (DocumentOutcome.MISMATCH if worth else DocumentOutcome.VERIFIED).value,
        "reasons": [
            f"{d.severity}: {d.element}: the contract has {d.contract_value or 'nothing'}, "
            f"expected {d.expected_value or 'a clause'}" + (f" ({d.note})" if d.note else "")
            for d in worth
        ],
    }
    q.store_review(driver, database, document_id, props)
    stored = q.get_document(driver, database, document_id)
    assert stored is not None
    return stored


_TRANSFER_KINDS = frozenset({"factoring", "reverse_factoring", "receivable_pledge"})


def stored_review(
    driver: Driver, database: str, document_id: str, book: str | None = None
) -> dict[str, Any] | None:
    """A contract's stored review (None when it has none, or it is another funder's)."""
    doc = q.get_document(driver, database, document_id)
    if doc is None or not doc.get("review"):
        return None
    body = json.loads(doc["review"])
    if book is not None and body.get("funder_id") not in (None, book):
        return None
    return {
        **body,
        "document_id": doc["id"],
        "text_method": doc.get("text_method"),
        "reviewed_by": doc.get("reviewed_by"),
        "reviewed_at": doc.get("reviewed_at"),
    }


def check_attachable(
    driver: Driver, database: str, enterprise_id: str, document_ids: list[str]
) -> None:
    """Each document exists and concerns the applicant: it proves the enterprise, an
    invoice it is a party to, or it names the enterprise (a contract uploaded for it)."""
    for did in document_ids:
        row = q.document_parties(driver, database, did)
        if row is None:
            raise UnknownReference(f"no document {did}")
        d = row["document"]
        if enterprise_id not in {*row["enterprises"], d.get("enterprise_id")}:
            raise DocumentsError(f"document {did} does not concern enterprise {enterprise_id}")


def attach(
    driver: Driver, database: str, application_id: str, enterprise_id: str,
    document_ids: list[str], username: str,
) -> list[dict[str, Any]]:  # fmt: skip
    """Attach documents to an application; its documents after."""
    ids = sorted(set(document_ids))
    check_attachable(driver, database, enterprise_id, ids)
    q.attach_documents(driver, database, application_id, ids, username, _now_text())
    return q.application_documents(driver, database, application_id)
