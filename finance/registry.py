"""The registry of security interests, in the role China's Zhongdeng registry plays.

A registration records that a secured party holds a pledge of a receivable, a warehouse
receipt or movables, or has taken a receivable by transfer: its number, the debtor (who owns
the collateral), the collateral, a description and the period. The registry is one for the
whole platform: a second live registration on the same collateral is refused, naming the
registration that holds it, until that one is discharged or its period has ended.

Several funders share the platform and its registry: a funder's own users register and
discharge only for their funder (its secured-party name, `lender_of`); the platform's staff
(unbound) also record parties outside the platform, never another funder on it; an unbound
admin acts for anyone (`check_party`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import ledger
from finance.errors import (
    AlreadyPledged,
    FinanceError,
    Forbidden,
    InvalidState,
    NotEligible,
    NotFound,
)
from finance.lifecycle.states import OWN_LENDER, lender_of
from graph.funders import get_funder
from graph.model import DEFAULT_FUNDER, InterestKind, InterestStatus
from graph.queries import receivables as q
from graph.values import native

MAX_PARTY = 200
MAX_DESCRIPTION = 2_000


@dataclass(frozen=True)
class SecurityInterest:
    id: str  # the registration number
    kind: InterestKind
    status: InterestStatus
    collateral_kind: str  # invoice, warehouse_receipt, livestock, inventory, equipment
    collateral_id: str
    debtor_id: str
    secured_party: str
    financing_id: str | None
    description: str
    registered_on: date
    expires_on: date
    registered_by: str
    discharged_on: date | None
    amendments: tuple[Amendment, ...] = ()


@dataclass(frozen=True)
class Amendment:
    """One amendment of a registration (变更登记): what changed, from what to what."""

    on: date
    by: str
    at: datetime
    expires_on: tuple[date, date] | None  # (was, is); None: unchanged
    description: tuple[str, str] | None


@dataclass(frozen=True)
class RegistrationRequest:
    id: str
    kind: InterestKind
    collateral_id: str
    secured_party: str
    registered_on: date
    expires_on: date
    description: str
    by: str
    at: datetime
    financing_id: str | None = None



def _interest(r: dict[str, Any]) -> SecurityInterest:
    return SecurityInterest(
        id=r["id"], kind=InterestKind(r["kind"]), status=InterestStatus(r["status"]),
        collateral_kind=r["collateral_kind"], collateral_id=r["collateral_id"],
        debtor_id=r["debtor_id"], secured_party=r["secured_party"],
        financing_id=r.get("financing_id"), description=r.get("description") or "",
        registered_on=native(r["registered_on"]), expires_on=native(r["expires_on"]),
        registered_by=r["registered_by"], discharged_on=native(r.get("discharged_on")),
        amendments=tuple(_amendment(json.loads(a)) for a in r.get("amendments") or ()),
    )  # fmt: skip


def _amendment(a: dict[str, Any]) -> Amendment:
    exp = a.get("expires_on")
    return Amendment(
        on=date.fromisoformat(a["on"]), by=a["by"], at=datetime.fromisoformat(a["at"]),
        expires_on=(date.fromisoformat(exp[0]), date.fromisoformat(exp[1])) if exp else None,
        description=(a["description"][0], a["description"][1]) if a.get("description") else None,
    )  # fmt: skip


def blocking(live: list[dict[str, Any]], on: date) -> dict[str, Any] | None:
    """The live registration that holds the collateral on ``on`` (one whose period has
    ended no longer does), or None."""
    for r in live:
        if native(r["expires_on"]) >= on:
            return r
    return None


def refusal(r: dict[str, Any], collateral_id: str) -> str:
    return (
        f"{collateral_id} is covered by live registration {r['id']} of {r['secured_party']} "
        f"({r['kind']}, registered on {native(r['registered_on'])}); it must be discharged "
        "first"
    )


def check_free(tx: ManagedTransaction, collateral_ids: list[str], secured_party: str,
               on: date) -> None:  # fmt: skip
    """Refuse collateral that a registration of another secured party holds on ``on`` (a
    financing's check, inside its write)."""
    for r in q.live_interests(tx, collateral_ids):
        if r["secured_party"] != secured_party and native(r["expires_on"]) >= on:
            raise AlreadyPledged(refusal(r, r["collateral_id"]))


def register_financing(
    tx: ManagedTransaction, financing_id: str, debtor_id: str, collateral: list[dict[str, str]],
    kind: InterestKind, secured_party: str, on: date, until: date, by: str, at: datetime,
) -> None:  # fmt: skip
    """Register the financing's invoices and assets (``{"id", "label"}`` rows) for its
    secured party, unless a registration of that party already holds them."""
    ids = [c["id"] for c in collateral if c["label"] in ("Invoice", "Asset")]
    held = {r["collateral_id"] for r in q.live_interests(tx, ids)}
    for c in collateral:
        if c["id"] not in ids or c["id"] in held:
            continue
        is_invoice = c["label"] == "Invoice"
        q.create_interest(
            tx,
            {
                "id": f"RSI-{financing_id}-{c['id']}",
                "kind": (kind if is_invoice else InterestKind.PLEDGE).value,
                "status": InterestStatus.LIVE.value,
                "collateral_kind": "invoice" if is_invoice else (c.get("kind") or "asset"),
                "collateral_id": c["id"], "debtor_id": debtor_id,
                "secured_party": secured_party, "financing_id": financing_id,
                "description": f"collateral of financing {financing_id}",
                "registered_on": on, "expires_on": until, "registered_by": by,
                "registered_at": at,
            },
            c["id"],
            debtor_id,
        )  # fmt: skip


def party_funder(driver: Driver, database: str, secured_party: str) -> str | None:
    """The funder on the platform a secured party names (by `lender_of`), or None for a party
    outside the platform."""
    if secured_party == OWN_LENDER:
        return DEFAULT_FUNDER
    return secured_party if get_funder(driver, database, secured_party) is not None else None


def check_party(
    driver: Driver, database: str, secured_party: str, funder_id: str | None, book: str | None
) -> None:
    """May a user act in the registry for ``secured_party``? ``funder_id``: the funder the
    user is bound to; ``book``: the funder's book it reads (None: an unbound admin's)."""
    owner = party_funder(driver, database, secured_party)
    if funder_id is not None and owner != funder_id:
        raise Forbidden(
            "a funder's users act in the registry only for their own funder "
            f"(secured party {lender_of(funder_id)!r})"
        )
    if book is not None and owner is not None and owner != book:
        raise Forbidden(f"{secured_party} is another funder on the platform: only its own "
                        "users act for it in the registry")  # fmt: skip


def _check(req: RegistrationRequest) -> None:
    if req.at.tzinfo is None:
        raise FinanceError("the time of a registration needs a timezone")
    if not req.secured_party.strip() or len(req.secured_party) > MAX_PARTY:
        raise FinanceError(f"the secured party is 1 to {MAX_PARTY} characters")
    if len(req.description) > MAX_DESCRIPTION:
        raise FinanceError(f"a description has at most {MAX_DESCRIPTION} characters")
    if req.expires_on <= req.registered_on:
        raise FinanceError("a registration's period must end after it starts")


def register(driver: Driver, database: str, req: RegistrationRequest) -> SecurityInterest:
    """Register a pledge or a receivable transfer; the same number again returns it.
    Refused, nothing written, when the collateral is unknown or already covered."""
    _check(req)

    def work(tx: ManagedTransaction) -> None:
        if q.lock_interest(tx, req.id) is not None:
            return
        c = q.lock_collateral(tx, req.collateral_id)
        if c is None:
            raise NotFound(f"no invoice or asset {req.collateral_id}")
        if req.kind == InterestKind.TRANSFER and c["label"] != "Invoice":
            raise NotEligible("only a receivable (an invoice) is transferred; assets are pledged")
        if c["owner_id"] is None:
            raise NotEligible(f"{req.collateral_id} has no owner to be the debtor")
        held = blocking(c["live"], req.registered_on)
        if held is not None:
            raise AlreadyPledged(refusal(held, req.collateral_id))
        kind = "invoice" if c["label"] == "Invoice" else (c["kind"] or "asset")
        q.create_interest(
            tx,
            {
                "id": req.id, "kind": req.kind.value, "status": InterestStatus.LIVE.value,
                "collateral_kind": kind, "collateral_id": req.collateral_id,
                "debtor_id": c["owner_id"], "secured_party": req.secured_party.strip(),
                "financing_id": req.financing_id, "description": req.description,
                "registered_on": req.registered_on, "expires_on": req.expires_on,
                "registered_by": req.by, "registered_at": req.at,
            },
            req.collateral_id,
            c["owner_id"],
        )  # fmt: skip

    ledger.run_write(driver, database, work)
    return get(driver, database, req.id)


def discharge(
    driver: Driver, database: str, id: str, on: date, by: str, at: datetime
) -> SecurityInterest:
    """End a live registration on ``on``; discharging it again returns it unchanged."""
    if at.tzinfo is None:
        raise FinanceError("the time of a discharge needs a timezone")

    def work(tx: ManagedTransaction) -> None:
        r = q.lock_interest(tx, id)
        if r is None:
            raise NotFound(f"registration {id} does not exist")
        if r["status"] == InterestStatus.DISCHARGED:
            return
        if on < native(r["registered_on"]):
            raise InvalidState(f"registration {id} starts on {native(r['registered_on'])}")
        q.update_interest(
            tx, id,
            {"status": InterestStatus.DISCHARGED.value, "discharged_on": on,
             "discharged_by": by, "discharged_at": at},
        )  # fmt: skip

    ledger.run_write(driver, database, work)
    return get(driver, database, id)


def amend(
    driver: Driver, database: str, id: str, on: date, by: str, at: datetime, *,
    expires_on: date | None = None, description: str | None = None,
) -> SecurityInterest:  # fmt: skip
    """Amend a live registration on ``on`` (变更登记): a new end of its period, extended or
    shortened (after its start, not before ``on``), and/or a new description. Extending it
    over the start of another live registration of the same collateral is refused, naming
    that one. Each amendment is kept on the registration, oldest first; asking for what the
    registration already says changes nothing. The caller checks who may amend
    (`check_party`)."""
    if at.tzinfo is None:
        raise FinanceError("the time of an amendment needs a timezone")
    if expires_on is None and description is None:
        raise FinanceError("an amendment changes the period's end, the description or both")
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise FinanceError(f"a description has at most {MAX_DESCRIPTION} characters")

    def work(tx: ManagedTransaction) -> None:
        r = q.lock_interest(tx, id)
        if r is None:
            raise NotFound(f"registration {id} does not exist")
        if r["status"] != InterestStatus.LIVE:
            raise InvalidState(f"registration {id} is {r['status']}: only a live one is amended")
        start, end = native(r["registered_on"]), native(r["expires_on"])
        if end < on:
            raise InvalidState(f"registration {id} lapsed on {end}: register the collateral "
                               "anew")  # fmt: skip
        new_end = end if expires_on is None else expires_on
        text = r.get("description") or ""
        new_text = text if description is None else description
        if (new_end, new_text) == (end, text):
            return
        if new_end <= start or new_end < on:
            raise FinanceError(f"the period of registration {id} must end after it starts "
                               f"({start}) and not before the amendment ({on})")  # fmt: skip
        if new_end > end:
            for other in q.live_interests(tx, [r["collateral_id"]]):
                if other["id"] != id and native(other["registered_on"]) <= new_end:
                    raise AlreadyPledged(refusal(other, r["collateral_id"]))
        change: dict[str, Any] = {"on": on.isoformat(), "by": by, "at": at.isoformat()}
        if new_end != end:
            change["expires_on"] = [end.isoformat(), new_end.isoformat()]
        if new_text != text:
            change["description"] = [text, new_text]
        q.update_interest(tx, id, {
            "expires_on": new_end, "description": new_text,
            "amendments": [*(r.get("amendments") or []), json.dumps(change, ensure_ascii=False)],
        })  # fmt: skip

    ledger.run_write(driver, database, work)
    return get(driver, database, id)


def get(driver: Driver, database: str, id: str) -> SecurityInterest:
    r = q.get_interest(driver, database, id)
    if r is None:
        raise NotFound(f"registration {id} does not exist")
    return _interest(r)


def search(
    driver: Driver, database: str, debtor_id: str | None, collateral_id: str | None,
    status: str | None, skip: int, limit: int,
) -> tuple[list[SecurityInterest], int]:  # fmt: skip
    """Registrations by debtor and/or collateral (and status), newest first."""
    if debtor_id is None and collateral_id is None:
        raise FinanceError("search the registry by debtor, by collateral or both")
    if status is not None:
        try:
            status = InterestStatus(status).value
        except ValueError:
            raise FinanceError(
                f"status must be one of {', '.join(s.value for s in InterestStatus)}"
            ) from None
    rows, total = q.search_interests(
        driver, database, debtor_id, collateral_id, status, skip, limit
    )
    return [_interest(r) for r in rows], total
