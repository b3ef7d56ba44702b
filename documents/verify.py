"""A document's fields checked against the graph's facts, with reasons a person can read.

Pure functions over the extraction and the rows `graph/queries/documents.py` returns, so
every rule is tested without a database. Only accepted fields (read with confidence, checks
passed) are compared; a field needed for a check that is marked for review makes the outcome
`needs_review`, never a guess either way.

Outcomes, worst first: `forged` (a wrong USCC check character read with confidence, an
invoice code and number already shown as evidence for another invoice, an amount or tax that
is not the graph's, a seller or buyer tax id that is not the graph's party), `mismatch` (a
name, legal form, date or capital that differs; a licence whose name entity resolution gives
to a firm of another USCC; an invoice whose four flows are broken), `needs_review`,
`unmatched` (no enterprise with the licence's USCC, and none found by its name), `verified`.

A licence whose USCC finds nobody, or finds a firm of another name, is matched by entity
resolution (`entity_resolution.lookup.match_candidates` on the licence's name, address, legal
form and legal representative, without its USCC: two different valid USCCs would keep the
pair apart before the name is weighed); the service passes the candidates in as
`ErCandidate`s and the rules below decide (docs/documents.md).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from documents.fields import REVIEW_BELOW, Extraction
from entity_resolution.records import EnterpriseRecord
from entity_resolution.uscc import UsccProblem
from graph.analytics.trade import Flow, FlowCheck
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


@dataclass(frozen=True, slots=True)
class ErCandidate:
    """An enterprise entity resolution offers for a licence: its graph facts
    (ENTERPRISES_BY_IDS rows: ``enterprise``, ``legal_reps``) and the pair's `MatchResult`
    in plain values (``same``: the score reaches the model's threshold, no cannot-link)."""

    enterprise: dict[str, Any]
    legal_reps: list[str]
    score: float
    same: bool
    threshold: float
    blocked_by: str = ""

    @property
    def id(self) -> str:
        return str(self.enterprise["id"])

    def line(self) -> str:
        e = self.enterprise
        uscc = e.get("uscc") or "no USCC in the graph"
        verdict = ("same firm" if self.same else f"kept apart: {self.blocked_by}"
                   if self.blocked_by else "below the threshold")  # fmt: skip
        return f"{e['id']} {e.get('name')} ({uscc}) {self.score:.3f}, {verdict}"


# The licence's fields entity resolution compares (its USCC is compared after, by the rules).
_ER_FIELDS = {"name": "name", "address": "address", "legal_form": "legal form",
              "legal_rep": "legal representative"}  # fmt: skip


def resolution_record(ex: Extraction) -> EnterpriseRecord | None:
    """The licence as an outside record for entity resolution: its accepted name, address,
    legal form and legal representative, never its USCC (None without an accepted name)."""
    name = ex.accepted("name")
    if name is None:
        return None
    return EnterpriseRecord(
        record_id="licence", source="document", name=name,
        address=ex.accepted("address") or "", legal_form=ex.accepted("legal_form") or "",
        legal_rep=ex.accepted("legal_rep") or "",
    )  # fmt: skip


def wants_resolution(ex: Extraction, by_uscc: Sequence[dict[str, Any]]) -> bool:
    """Whether the licence is matched by entity resolution: its USCC was read (and passes
    its check), its name was read, and no enterprise has the USCC or the one that has it
    bears another name."""
    if uscc_forgery(ex) or ex.accepted("uscc") is None:
        return False
    name = ex.accepted("name")
    if name is None:
        return False
    return not by_uscc or not _same_text(name, str(by_uscc[0]["enterprise"].get("name") or ""))


def _how(ex: Extraction, candidates: Sequence[ErCandidate]) -> str:
    used = ", ".join(what for k, what in _ER_FIELDS.items() if ex.accepted(k))
    threshold = candidates[0].threshold if candidates else None
    if not candidates:
        return f"entity resolution on the licence's {used} found no candidate"
    return (f"entity resolution on the licence's {used} (threshold {threshold:.3f}): "
            + "; ".join(c.line() for c in candidates))  # fmt: skip


def _best(candidates: Sequence[ErCandidate]) -> ErCandidate | None:
    return next((c for c in candidates if c.same), None)


def _compare_facts(v: Verification, ex: Extraction, e: dict[str, Any], reps: list[str]) -> None:
    """The licence's legal form, capital, date of establishment and legal representative
    against an enterprise's (those the graph has)."""
    _compare(v, ex, "legal_form", e.get("legal_form"), DocumentOutcome.MISMATCH, "legal form")
    capital = e.get("registered_capital")
    _compare(
        v, ex, "registered_capital", None if capital is None else str(int(capital) // 100),
        DocumentOutcome.MISMATCH, "registered capital (yuan)",
    )  # fmt: skip
    _compare(v, ex, "founded_on", _date(e.get("founded_on")), DocumentOutcome.MISMATCH,
             "date of establishment")  # fmt: skip
    rep = ex.fields["legal_rep"]
    if reps:
        if rep.accepted is None:
            v.add(DocumentOutcome.NEEDS_REVIEW, f"legal representative not read ({rep.reason})")
        elif not any(_same_text(rep.accepted, p) for p in reps):
            v.add(
                DocumentOutcome.MISMATCH,
                f"legal representative reads {rep.accepted}, the graph has {', '.join(reps)}",
            )


def verify_licence(
    ex: Extraction,
    by_uscc: Sequence[dict[str, Any]],
    claimed: dict[str, Any] | None,
    candidates: Sequence[ErCandidate] = (),
) -> Verification:
    """``by_uscc``: enterprises with the licence's USCC (ENTERPRISE_BY_USCC rows);
    ``claimed``: the enterprise the uploader says it belongs to, if any; ``candidates``:
    entity resolution's enterprises for the licence, best first (when `wants_resolution`)."""
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
        _unknown_uscc(v, ex, uscc, claimed, candidates)
        return v
    row = by_uscc[0]
    e = row["enterprise"]
    v.enterprise_id = e["id"]
    if claimed is not None and claimed["enterprise"]["id"] != e["id"]:
        v.add(
            DocumentOutcome.MISMATCH,
            f"USCC {uscc} belongs to {e['id']}, not to {claimed['enterprise']['id']}",
        )
    if wants_resolution(ex, by_uscc):
        _other_name(v, ex, uscc, e, candidates)
    else:
        _compare(v, ex, "name", e.get("name"), DocumentOutcome.MISMATCH, "name")
    _compare_facts(v, ex, e, [str(p) for p in row.get("legal_reps") or [] if p])
    return v


def _unknown_uscc(
    v: Verification, ex: Extraction, uscc: str, claimed: dict[str, Any] | None,
    candidates: Sequence[ErCandidate],
) -> None:  # fmt: skip
    """No enterprise has the licence's USCC: entity resolution on its name decides."""
    how = _how(ex, candidates) if ex.accepted("name") else (
        f"entity resolution not tried: name not read ({ex.fields['name'].reason})")  # fmt: skip
    best = _best(candidates)
    claimed_e = None if claimed is None else claimed["enterprise"]
    if best is None:
        if claimed_e is not None:
            v.enterprise_id = claimed_e["id"]
            v.add(
                DocumentOutcome.MISMATCH,
                f"USCC {uscc} is not {v.enterprise_id}'s "
                f"({claimed_e.get('uscc') or 'none on record'}), and {how}",
            )
        else:
            v.add(DocumentOutcome.UNMATCHED,
                  f"no enterprise in the graph has USCC {uscc}, and {how}")  # fmt: skip
        return
    b = best.enterprise
    v.enterprise_id = claimed_e["id"] if claimed_e is not None else best.id
    matched = (f"entity resolution matches the licence's name {ex.accepted('name')} to "
               f"{best.id} ({b.get('name')}, score {best.score:.3f})")  # fmt: skip
    if b.get("uscc"):
        v.add(
            DocumentOutcome.MISMATCH,
            f"{matched}, but the licence's USCC {uscc} is not {best.id}'s: the graph has "
            f"{b['uscc']} for {best.id} and no enterprise has {uscc} (a licence that claims "
            f"another firm's name); {how}",
        )
    else:
        v.add(
            DocumentOutcome.NEEDS_REVIEW,
            f"no enterprise in the graph has USCC {uscc}; {matched}, which has no USCC in "
            f"the graph: a person confirms that {uscc} is {best.id}'s; {how}",
        )
        _compare_facts(v, ex, b, best.legal_reps)
    if claimed_e is not None and claimed_e["id"] != best.id:
        v.add(
            DocumentOutcome.MISMATCH,
            f"the licence is {best.id}'s by entity resolution, not {claimed_e['id']}'s "
            f"(USCC {uscc} is not {claimed_e['id']}'s either: "
            f"{claimed_e.get('uscc') or 'none on record'})",
        )


def _other_name(
    v: Verification, ex: Extraction, uscc: str, e: dict[str, Any],
    candidates: Sequence[ErCandidate],
) -> None:  # fmt: skip
    """The USCC's holder ``e`` bears another name than the licence: entity resolution on the
    licence's name tells a variant of ``e``'s name from another firm's name."""
    name = ex.accepted("name")
    how = _how(ex, candidates)
    differs = f"name reads {name}, the graph has {e.get('name')} for {e['id']} (USCC {uscc})"
    best = _best(candidates)
    if best is None:
        v.add(DocumentOutcome.MISMATCH, f"{differs}; {how}")
    elif best.id == e["id"]:
        v.add(
            DocumentOutcome.NEEDS_REVIEW,
            f"{differs}; entity resolution scores the two names one firm ({best.score:.3f}): "
            f"a variant of {e['id']}'s name, a person confirms; {how}",
        )
    else:
        other = best.enterprise.get("uscc") or "no USCC in the graph"
        v.add(
            DocumentOutcome.MISMATCH,
            f"{differs}; entity resolution gives the name to {best.id} ({other}, score "
            f"{best.score:.3f}): the USCC {uscc} is {e['id']}'s, the name {best.id}'s "
            f"(a licence that claims another firm's name); {how}",
        )


def invoice_key(ex: Extraction) -> str | None:
    code, number = ex.accepted("code"), ex.accepted("number")
    return f"{code}:{number}" if code and number else None


def verify_invoice(
    ex: Extraction,
    facts: dict[str, Any],
    seen: Sequence[dict[str, Any]],
    four_flow: Sequence[FlowCheck] = (),
) -> Verification:
    """``facts``: INVOICE_FACTS for the invoice the document is said to evidence; ``seen``:
    earlier documents with the same code and number (SEEN_INVOICE_KEY rows); ``four_flow``:
    the graph invoice's four-flow checks (`graph.analytics.trade.four_flow_invoice`)."""
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
    check_four_flows(v, four_flow)
    if facts.get("seller") is not None:
        v.enterprise_id = facts["seller"].get("id")
    return v


def four_flow_broken(check: FlowCheck) -> bool:
    """A flow that fails the invoice: missing or inconsistent. A payment not made yet is not
    a failure (a receivable offered for financing is, as a rule, not paid yet); one that is
    made must tie (not short, not over amount + tax, not before the invoice)."""
    if check.present:
        return not check.consistent
    return check.flow is not Flow.PAYMENT


def check_four_flows(v: Verification, checks: Sequence[FlowCheck]) -> None:
    """A broken flow of the graph's invoice makes the document at least `mismatch`, with the
    flow and the check's own words as the reason."""
    for c in checks:
        if four_flow_broken(c):
            state = "inconsistent" if c.present else "missing"
            v.add(DocumentOutcome.MISMATCH,
                  f"four flows of invoice {v.invoice_id}: the {c.flow} flow is {state} "
                  f"({c.detail})")  # fmt: skip
