"""Offers of one application to several funders (a "bank supermarket").

`offer` records one application per funder (`<request>@<funder>`, each in that funder's
book, `offer_of` the request id); nothing is decided for them. Each funder's credit officer
decides its own (`decide_offer`): an offer holds that funder's line (a pending hold, as an
approval does) at the amount and rate it offers, a refusal holds nothing. The borrower accepts
one offer (`accept_offer`), in one transaction with every offer of the request locked: the
other offers lapse and their holds are voided, and the accepted one becomes an approved
financing (its hold moved onto the financing, its collateral pledged and registered), as
`review_application` would make it. A second acceptance of the same request is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from neo4j import Driver, ManagedTransaction

from finance import credit_lines as cl
from finance import ledger
from finance.errors import FinanceError, Forbidden, IdempotencyConflict, InvalidState, NotFound
from finance.lifecycle.applications import _approve_tx, _line_for
from finance.lifecycle.states import (
    APPLICANT_ROLES,
    CHECKER_ROLES,
    Application,
    AppStatus,
    _app,
    _now,
    get_application,
)
from finance.policy import POLICY_VERSION, read_facts
from finance.products import in_force, recorded
from graph.funders import get_funder
from graph.model import DEFAULT_FUNDER
from graph.queries import finance as q
from graph.queries import offers as qo

MAX_FUNDERS = 10


@dataclass(frozen=True)
class OfferRequest:
    id: str  # the request; each funder's offer is `<id>@<funder>`
    enterprise_id: str
    product_id: str
    amount_minor: int
    currency: str
    collateral_ids: tuple[str, ...]
    funder_ids: tuple[str, ...]
    maker: str
    maker_role: str


def offer_id(request_id: str, funder_id: str) -> str:
    return f"{request_id}@{funder_id}"


def _hold_key(application_id: str) -> str:
    return f"hold:offer:{application_id}"


def offers_of(driver: Driver, database: str, request_id: str) -> list[Application]:
    return [_app(r) for r in qo.offers(driver, database, request_id)]


def offer(driver: Driver, database: str, req: OfferRequest) -> list[Application]:
    """Record the request's offer to each funder; the same request again returns them."""
    if req.maker_role not in APPLICANT_ROLES:
        raise Forbidden(f"role {req.maker_role} cannot submit applications")
    funders = sorted(set(req.funder_ids))
    if not 2 <= len(funders) <= MAX_FUNDERS:
        raise FinanceError(f"an offer goes to 2 to {MAX_FUNDERS} different funders")
    if req.amount_minor <= 0:
        raise FinanceError("the amount asked must be positive")
    if "@" in req.id:
        raise FinanceError("a request id must not contain '@'")
    for f in funders:
        if f != DEFAULT_FUNDER and get_funder(driver, database, f) is None:
            raise NotFound(f"funder {f} does not exist")
        # NOT_FOUND for a product not offered, or one funder's own product offered to others
        in_force(driver, database, req.product_id, funder=f)
    now = _now()
    terms = {
        "enterprise_id": req.enterprise_id, "product_id": req.product_id,
        "amount_minor": req.amount_minor, "currency": req.currency,
        "collateral_ids": sorted(set(req.collateral_ids)), "offer_of": req.id,
    }  # fmt: skip

    def work(tx: ManagedTransaction) -> None:
        for f in funders:
            props = {**terms, "funder_id": f, "maker": req.maker, "maker_role": req.maker_role}
            got = q.merge_application(tx, offer_id(req.id, f), req.enterprise_id, props, now)
            if got is None:
                raise NotFound(f"enterprise {req.enterprise_id} does not exist")
            old = got["application"]
            if not got["created"] and any(old.get(k) != v for k, v in props.items()
                                          if k != "maker_role"):  # fmt: skip
                raise IdempotencyConflict(
                    f"request {req.id} was already offered with other terms; use a new id"
                )

    ledger.run_write(driver, database, work)
    return offers_of(driver, database, req.id)


def decide_offer(
    driver: Driver, database: str, application_id: str, checker: str, checker_role: str,
    approve: bool, *, amount_minor: int | None = None, rate_bps: int | None = None,
    note: str = "", today: date | None = None,
) -> Application:  # fmt: skip
    """A funder's decision on its offer: an approval holds its line for the amount offered
    (at most what was asked) at its rate; deciding the same way again changes nothing."""
    if checker_role not in CHECKER_ROLES:
        raise Forbidden(f"role {checker_role} cannot decide offers")
    app0 = get_application(driver, database, application_id)
    row0 = q.get_application(driver, database, application_id) or {}
    if not row0.get("offer_of"):
        raise InvalidState(f"application {application_id} is not an offer to several funders")
    # The version in force when the funder decides; recorded on its offer, which the
    # financing takes on acceptance.
    product = in_force(driver, database, app0.product_id, funder=app0.funder_id)
    amount = amount_minor if amount_minor is not None else app0.amount_minor
    rate = rate_bps if rate_bps is not None else product.pricing.base_rate_bps
    if approve and not 0 < amount <= app0.amount_minor:
        raise FinanceError(f"an offer is positive and at most the {app0.amount_minor} asked")
    if not 0 < rate <= 10_000:
        raise FinanceError("rateBps must be between 1 and 10000")
    now = _now()
    today = today or now.date()
    facts = read_facts(driver, database, app0.enterprise_id, app0.currency, today,
                       app0.funder_id)  # fmt: skip
    verdict = AppStatus.OFFERED if approve else AppStatus.REJECTED

    def work(tx: ManagedTransaction) -> None:
        app = q.lock_application(tx, application_id)
        if app is None:
            raise NotFound(f"application {application_id} does not exist")
        if app["status"] == verdict and app.get("checker") == checker:
            return
        if app["status"] != AppStatus.SUBMITTED:
            raise InvalidState(f"offer {application_id} is {app['status']}, not submitted")
        props: dict[str, Any] = {"status": verdict.value, "checker": checker,
                                 "reviewed_at": now, "review_note": note, "decided_at": now}
        if approve:
            line_id = _line_for(product, facts, app["currency"],
                                partial(q.line_of, tx, funder=app0.funder_id))  # fmt: skip
            if line_id is None:
                raise InvalidState(f"funder {app0.funder_id} has no credit line to hold")
            holds = cl.occupy_tx(tx, line_id, amount, _hold_key(application_id), pending=True,
                                 ref=application_id, on=today, now=now)  # fmt: skip
            cl.raise_for(ledger.create_transfers_tx(tx, holds, now), line_id, amount)
            props.update(decided_amount_minor=amount, rate_bps=rate, line_id=line_id,
                         policy_version=POLICY_VERSION,
                         product_version=product.version)  # fmt: skip
        q.update_application(tx, application_id, props)
        q.create_decision(tx, application_id, {
            "id": f"D-{application_id}-offer", "kind": "offer", "actor": checker,
            "verdict": "approve" if approve else "reject",
            "reasons": [note or (f"offered by {checker}" if approve else "declined")],
            "amount_minor": amount if approve else 0, "rate_bps": rate,
            "policy_version": POLICY_VERSION, "decided_at": now,
            "product_version": product.version,
        })  # fmt: skip

    ledger.run_write(driver, database, work)
    return get_application(driver, database, application_id)


def _void_hold(tx: ManagedTransaction, app: dict[str, Any], key: str, now: Any) -> None:
    reqs = cl.close_chain(cl.confirm_requests(
        _hold_key(app["id"]), cl.path_ids(tx, app["line_id"]), key, void=True))  # fmt: skip
    ledger.require_ok(ledger.create_transfers_tx(tx, reqs, now))


def accept_offer(
    driver: Driver, database: str, application_id: str, by: str,
    enterprise_id: str | None = None, today: date | None = None,
) -> list[Application]:  # fmt: skip
    """The borrower takes one offer: the others lapse (holds voided), the accepted one is
    approved into a financing. ``enterprise_id``: the caller acts for that firm only."""
    app0 = get_application(driver, database, application_id)
    row0 = q.get_application(driver, database, application_id) or {}
    request = row0.get("offer_of")
    if not request or (enterprise_id is not None and app0.enterprise_id != enterprise_id):
        raise NotFound(f"offer {application_id} does not exist")
    product = recorded(driver, database, app0.product_id, app0.product_version)
    now = _now()
    today = today or now.date()
    facts = read_facts(driver, database, app0.enterprise_id, app0.currency, today,
                       app0.funder_id)  # fmt: skip

    def work(tx: ManagedTransaction) -> None:
        group = qo.lock_offers(tx, request)
        chosen = next(a for a in group if a["id"] == application_id)
        taken = [a for a in group if a.get("accepted_by")]
        if taken:
            if taken[0]["id"] == application_id:
                return  # accepted already: the same answer
            raise InvalidState(f"offer {taken[0]['id']} of request {request} was accepted")
        if chosen["status"] != AppStatus.OFFERED:
            raise InvalidState(f"offer {application_id} is {chosen['status']}, not offered")
        for other in group:
            if other["id"] == application_id:
                continue
            if other["status"] == AppStatus.OFFERED:
                _void_hold(tx, other, f"lapse:{other['id']}", now)
            if other["status"] in (AppStatus.SUBMITTED, AppStatus.OFFERED):
                q.update_application(tx, other["id"], {"status": AppStatus.LAPSED.value,
                                                       "lapsed_at": now})  # fmt: skip
        _void_hold(tx, chosen, f"accept:{application_id}", now)
        fin_id = _approve_tx(tx, chosen, product, facts, chosen["decided_amount_minor"],
                             chosen["rate_bps"], now, today)  # fmt: skip
        q.update_application(tx, application_id, {
            "status": AppStatus.APPROVED.value, "financing_id": fin_id, "accepted_by": by,
            "accepted_at": now})  # fmt: skip

    ledger.run_write(driver, database, work)
    return offers_of(driver, database, request)
