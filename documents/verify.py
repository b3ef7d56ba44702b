"""A document's fields checked against the graph's facts, with reasons a person can read.

Pure functions over the extraction and the rows `graph/queries/documents.py` returns, so
every rule is tested without a database. Only accepted fields (read with confidence, checks
passed) are compared; a field needed for a check that is marked for review makes the outcome
`needs_review`, never a guess either way.

Outcomes, worst first: `forged` (a wrong USCC check character read with confidence, an
invoice code and number already shown as evidence for another invoice, an amount or tax that
is not the graph's, a seller or buyer tax id that is not the graph's party), `mismatch` (a
name, legal form, date or capital that differs), `needs_review`, `unmatched` (no enterprise
with the licence's USCC), `verified`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from documents.fields import REVIEW_BELOW, Extraction
from entity_resolution.uscc import UsccProblem
from graph.model import DocumentOutcome

_RANK = {
    DocumentOutcome.FORGED: 4,
    DocumentOutcome.MISMATCH: 3,
    DocumentOutcome.NEEDS_REVIEW: 2,
    DocumentOutcome.UNMATCHED: 1,
    DocumentOutcome.VERIFIED: 0,
}


@dataclass(slots=True)
class Verification:
    outcome: DocumentOutcome = DocumentOutcome.VERIFIED
    reasons: list[str] = field(default_factory=list)
    enterprise_id: str | None = None
    invoice_id: str | None = None

    def add(self, outcome: DocumentOutcome, reason: str) -> None:
        self.reasons.append(f"{outcome}: {reason}")
        if _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome


def _same_text(a: str, b: str) -> bool:
    def norm(s: str) -> str:
        return "".join(unicodedata.normalize("NFKC", s).split())

    return norm(a) == norm(b)


def _yuan_to_minor(value: str) -> int:
    return int(Decimal(value) * 100)


def _date(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def _compare(
    v: Verification, ex: Extraction, name: str, graph_value: str | None,
    outcome: DocumentOutcome, what: str,
) -> None:  # fmt: skip
    """Compare one field with the graph's value; a field not read with confidence is noted."""
    if graph_value is None:
        return
    f = ex.fields[name]
    if f.accepted is None:
        v.add(DocumentOutcome.NEEDS_REVIEW, f"{what} not read with confidence ({f.reason})")
    elif not _same_text(f.accepted, graph_value):
        v.add(outcome, f"{what} reads {f.accepted}, the graph has {graph_value}")


def uscc_forgery(ex: Extraction, name: str = "uscc") -> str | None:
    """The reason when the code was read with confidence and its check character is wrong."""
    f = ex.fields[name]
    if (
        f.value is not None
        and f.reason.startswith(f"uscc {UsccProblem.CHECK_CHARACTER}")
        and f.confidence >= REVIEW_BELOW
    ):
        return f"USCC {f.value} is not a valid code: {f.reason.partition(': ')[2]}"
    return None


def verify_licence(
    ex: Extraction, by_uscc: Sequence[dict[str, Any]], claimed: dict[str, Any] | None
) -> Verification:
    """``by_uscc``: enterprises with the licence's USCC (ENTERPRISE_BY_USCC rows);
    ``claimed``: the enterprise the uploader says it belongs to, if any."""
    v = Verification()
    forged = uscc_forgery(ex)
    if forged:
        v.add(DocumentOutcome.FORGED, forged)
        return v
    uscc = ex.accepted("uscc")
    if uscc is None:
        v.add(DocumentOutcome.NEEDS_REVIEW, f"USCC not read ({ex.fields['uscc'].reason})")
        return v
    if not by_uscc:
        if claimed is not None:
            v.enterprise_id = claimed["enterprise"]["id"]
            v.add(
                DocumentOutcome.MISMATCH,
                f"USCC {uscc} is not {v.enterprise_id}'s "
                f"({claimed['enterprise'].get('uscc') or 'none on record'})",
            )
        else:
            v.add(DocumentOutcome.UNMATCHED, f"no enterprise in the graph has USCC {uscc}")
        return v
    row = by_uscc[0]
    e = row["enterprise"]
    v.enterprise_id = e["id"]
    if claimed is not None and claimed["enterprise"]["id"] != e["id"]:
        v.add(
            DocumentOutcome.MISMATCH,
            f"USCC {uscc} belongs to {e['id']}, not to {claimed['enterprise']['id']}",
        )
    _compare(v, ex, "name", e.get("name"), DocumentOutcome.MISMATCH, "name")
    _compare(v, ex, "legal_form", e.get("legal_form"), DocumentOutcome.MISMATCH, "legal form")
    capital = e.get("registered_capital")
    _compare(
        v, ex, "registered_capital", None if capital is None else str(int(capital) // 100),
        DocumentOutcome.MISMATCH, "registered capital (yuan)",
    )  # fmt: skip
    _compare(v, ex, "founded_on", _date(e.get("founded_on")), DocumentOutcome.MISMATCH,
             "date of establishment")  # fmt: skip
    reps = [str(p) for p in row.get("legal_reps") or [] if p]
    rep = ex.fields["legal_rep"]
    if reps:
        if rep.accepted is None:
            v.add(DocumentOutcome.NEEDS_REVIEW, f"legal representative not read ({rep.reason})")
        elif not any(_same_text(rep.accepted, p) for p in reps):
            v.add(
                DocumentOutcome.MISMATCH,
                f"legal representative reads {rep.accepted}, the graph has {', '.join(reps)}",
            )
    return v


def invoice_key(ex: Extraction) -> str | None:
    code, number = ex.accepted("code"), ex.accepted("number")
    return f"{code}:{number}" if code and number else None


def verify_invoice(
    ex: Extraction, facts: dict[str, Any], seen: Sequence[dict[str, Any]]
) -> Verification:
    """``facts``: INVOICE_FACTS for the invoice the document is said to evidence; ``seen``:
    earlier documents with the same code and number (SEEN_INVOICE_KEY rows)."""
    inv = facts["invoice"]
    v = Verification(invoice_id=inv["id"])
    key = invoice_key(ex)
    if key is None:
        v.add(DocumentOutcome.NEEDS_REVIEW, "invoice code or number not read with confidence; "
              "not checked for re-use")  # fmt: skip
    else:
        other = [s for s in seen if s.get("invoice_id") != inv["id"]]
        if other:
            v.add(
                DocumentOutcome.FORGED,
                f"invoice {key} was already shown as evidence for invoice "
                f"{other[0]['invoice_id']} (document {other[0]['id']})",
            )
    for side in ("seller", "buyer"):
        forged = uscc_forgery(ex, f"{side}_tax_id")
        if forged:
            v.add(DocumentOutcome.FORGED, f"{side} tax id: {forged}")
        party = facts.get(side)
        if party is None:
            continue
        _compare(v, ex, f"{side}_tax_id", party.get("uscc"), DocumentOutcome.FORGED,
                 f"{side} tax id (the graph's {side} is {party.get('id')})")  # fmt: skip
        _compare(v, ex, f"{side}_name", party.get("name"), DocumentOutcome.MISMATCH,
                 f"{side} name")  # fmt: skip
    for name in ("amount", "tax"):
        graph_minor = inv.get(name)
        if graph_minor is None:
            continue
        f = ex.fields[name]
        if f.accepted is None:
            v.add(DocumentOutcome.NEEDS_REVIEW, f"{name} not read with confidence ({f.reason})")
        elif _yuan_to_minor(f.accepted) != int(graph_minor):
            v.add(
                DocumentOutcome.FORGED,
                f"{name} reads {f.accepted}, the graph's invoice {inv['id']} has "
                f"{int(graph_minor) // 100}.{int(graph_minor) % 100:02d}",
            )
    _compare(v, ex, "issued_on", _date(inv.get("issued_on")), DocumentOutcome.MISMATCH,
             "date of issue")  # fmt: skip
    if facts.get("seller") is not None:
        v.enterprise_id = facts["seller"].get("id")
    return v
