"""Four eyes on credit lines: a grant, or a limit raise, above the threshold
(`CHAINLENS_CREDIT_LINE_FOUR_EYES_MINOR`) is proposed by one admin and decided by another.

A proposal is kept whatever becomes of it (`LineProposal`: pending, then approved or
rejected, with who and when). Proposing the same id again with the same terms returns the
first proposal; with other terms it is a conflict. Deciding checks that the checker is not the
maker, then applies the change through `finance.administration` (keyed by the line id or by
the proposal's request id, so a retried approval applies it once) and records the decision.
Deciding a decided proposal again the same way returns it; the other way is refused.

A proposal is in the book of one funder (`funder_id`: the proposer's for a grant, the line's
for a limit) and applies there: the approved line is that funder's. Who may see and decide
it is the API's concern (`api/graphql/scoping.py`: a funder's proposals are its own).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger
from finance.administration import (
    ID_PATTERN,
    change_limit,
    check_grant,
    grant,
    line_row,
    money,
    reason_text,
)
from finance.errors import FinanceError, Forbidden, IdempotencyConflict, InvalidState, NotFound
from graph.enterprises import get_enterprises
from graph.model import DEFAULT_FUNDER, ProposalAction, ProposalStatus
from graph.queries import proposals as q
from graph.values import native

# What makes two proposals with one id the same request.
_TERMS = ("action", "line_id", "enterprise_id", "kind", "currency", "limit_minor",
          "expires_on", "parent_id", "product_id", "tier", "maker", "funder_id")  # fmt: skip


@dataclass(frozen=True)
class Proposal:
    id: str
    action: ProposalAction
    status: ProposalStatus
    line_id: str
    limit_minor: int  # the new line's limit, or the line's new limit
    currency: str
    maker: str
    created_at: datetime
    enterprise_id: str | None = None  # a grant's terms
    kind: str | None = None
    expires_on: date | None = None
    parent_id: str | None = None
    product_id: str | None = None
    tier: int | None = None
    checker: str | None = None
    note: str | None = None
    decided_at: datetime | None = None
    funder_id: str = DEFAULT_FUNDER  # whose book the line is (or goes) in


def _proposal(row: dict[str, Any]) -> Proposal:
    return Proposal(
        id=row["id"], action=ProposalAction(row["action"]), status=ProposalStatus(row["status"]),
        line_id=row["line_id"], limit_minor=int(row["limit_minor"]), currency=row["currency"],
        maker=row["maker"], created_at=native(row["created_at"]),
        enterprise_id=row.get("enterprise_id"), kind=row.get("kind"),
        expires_on=native(row.get("expires_on")), parent_id=row.get("parent_id"),
        product_id=row.get("product_id"), tier=row.get("tier"), checker=row.get("checker"),
        note=row.get("note"), decided_at=native(row.get("decided_at")),
        funder_id=row.get("funder_id") or DEFAULT_FUNDER,
    )  # fmt: skip


def _spec(p: Proposal) -> cl.LineSpec:
    assert p.enterprise_id is not None and p.kind is not None and p.expires_on is not None
    return cl.LineSpec(
        id=p.line_id, enterprise_id=p.enterprise_id, kind=cl.LineKind(p.kind),
        limit_minor=p.limit_minor, currency=p.currency, expires_on=p.expires_on,
        parent_id=p.parent_id, product_id=p.product_id, tier=p.tier, funder_id=p.funder_id,
    )  # fmt: skip


def _checked_id(proposal_id: str) -> str:
    if not ID_PATTERN.fullmatch(proposal_id):
        raise FinanceError(f"a proposal id is 1 to 64 letters, digits, '.', '_' or '-', "
                           f"got {proposal_id[:70]!r}")  # fmt: skip
    return proposal_id


def _store(driver: Driver, database: str, proposal_id: str, props: dict[str, Any]) -> Proposal:
    props = {**props, "status": ProposalStatus.PENDING.value, "created_at": datetime.now(UTC)}
    got = ledger.run_write(driver, database,
                           lambda tx: q.merge_proposal(tx, proposal_id, props))  # fmt: skip
    row = {"funder_id": DEFAULT_FUNDER, **dict(got["proposal"])}  # older: the default's
    if not got["created"]:
        differ = sorted(k for k in _TERMS if native(row.get(k)) != props.get(k))
        if differ:
            raise IdempotencyConflict(
                f"proposal {proposal_id} was already made with other {', '.join(differ)}"
            )
    return _proposal(row)


def propose_grant(
    driver: Driver, database: str, proposal_id: str, spec: cl.LineSpec, maker: str
) -> Proposal:
    """Propose a new line in ``spec.funder_id``'s book (checked now as a grant would be,
    and again when approved)."""
    _checked_id(proposal_id)
    if not get_enterprises(driver, database, [spec.enterprise_id]):
        raise NotFound(f"enterprise {spec.enterprise_id} does not exist")
    check_grant(driver, database, spec)
    return _store(driver, database, proposal_id, {
        "action": ProposalAction.GRANT.value, "line_id": spec.id,
        "enterprise_id": spec.enterprise_id, "kind": spec.kind.value,
        "currency": spec.currency, "limit_minor": spec.limit_minor,
        "expires_on": spec.expires_on, "parent_id": spec.parent_id,
        "product_id": spec.product_id, "tier": spec.tier, "maker": maker,
        "funder_id": spec.funder_id,
    })  # fmt: skip


def propose_limit(
    driver: Driver, database: str, proposal_id: str, line_id: str, new_limit: int, maker: str
) -> Proposal:
    """Propose a line's new limit (a cut needs no proposal, but may be proposed)."""
    _checked_id(proposal_id)
    checked = money(new_limit, "a limit")
    row = line_row(driver, database, line_id)
    return _store(driver, database, proposal_id, {
        "action": ProposalAction.LIMIT.value, "line_id": line_id, "currency": row["currency"],
        "limit_minor": checked, "maker": maker,
        "funder_id": row.get("funder_id") or DEFAULT_FUNDER,
    })  # fmt: skip


def get_proposal(driver: Driver, database: str, proposal_id: str) -> Proposal:
    row = q.get_proposal(driver, database, proposal_id)
    if row is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return _proposal(row)


def decide(
    driver: Driver, database: str, proposal_id: str, checker: str, approve: bool, note: str
) -> Proposal:
    """Approve (apply) or reject a pending proposal; the maker may not decide their own."""
    why = reason_text(note)
    p = get_proposal(driver, database, proposal_id)
    if p.maker == checker:
        raise Forbidden(f"{checker} made proposal {proposal_id} and may not decide it")
    wanted = ProposalStatus.APPROVED if approve else ProposalStatus.REJECTED
    if p.status != ProposalStatus.PENDING:
        if p.status == wanted and p.checker == checker:
            return p  # a retry
        raise InvalidState(f"proposal {proposal_id} was already {p.status} by {p.checker}")
    if approve:  # keyed by the line id / the proposal: a retried approval applies it once
        if p.action == ProposalAction.GRANT:
            grant(driver, database, _spec(p))
        else:
            change_limit(driver, database, p.line_id, p.limit_minor, f"proposal:{p.id}")
    props = {"status": wanted.value, "checker": checker, "note": why,
             "decided_at": datetime.now(UTC)}  # fmt: skip

    def work(tx: ManagedTransaction) -> dict[str, Any] | None:
        if q.lock_proposal(tx, proposal_id) is None:
            raise NotFound(f"proposal {proposal_id} does not exist")
        return q.decide(tx, proposal_id, props)

    decided = ledger.run_write(driver, database, work)
    if decided is None:  # another checker decided it meanwhile
        now = get_proposal(driver, database, proposal_id)
        if now.status == wanted:
            return now
        raise InvalidState(f"proposal {proposal_id} was already {now.status} by {now.checker}")
    return _proposal(decided)


def proposals(
    driver: Driver, database: str, status: str | None, skip: int, limit: int,
    funder: str | None = None,
) -> tuple[list[Proposal], int]:
    """A page of proposals of one funder's book (every funder's when ``funder`` is None)."""
    rows, total = q.proposals(driver, database, status, skip, limit, funder)
    return [_proposal(r) for r in rows], total
