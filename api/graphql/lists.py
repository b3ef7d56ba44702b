"""Lists and filters as connections with `totalCount`: applications, a checker's review
queue, financings, credit lines with their usage, alerts and enterprises.

Every filter is optional and combines with the others (AND); status filters take one value
or a list, checked against the graph model's statuses. The Cypher is in
`graph/queries/lists.py`: one page query and one count query with the same filters.

Who sees what: credit officers, analysts and relationship managers (and admins) read every
list; the service account (the product-matching engine) reads only the applications it made
and the financings that came of them: the query itself is filtered by its username.
Enterprises and alerts are for every reader.

Several funders (docs/api.md#several-funders): every list of the book (applications, the
review queue, financings, credit lines) is filtered in its query by the caller's funder
(`CurrentUser.book`); an enterprise's user lists only its own applications and financings
and the vouchers it issued or holds.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any, cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.core import Enterprise
from api.graphql.credit import CreditLine, read_lines
from api.graphql.finance import Application, Financing, Voucher, _app, _fin, _voucher
from api.graphql.pagination import After, Connection, Edge, First, from_page, window
from api.graphql.permissions import BOOK_READERS, CHECKERS, LINE_READERS, READERS, requires
from api.graphql.sensors import Alert
from api.security import Role
from finance import lifecycle as lc
from finance import vouchers as fv
from finance.errors import Forbidden
from graph.errors import InvalidArgument
from graph.queries import lists as ql
from sensors.service import _alert


# `AlertConnection` and `EnterpriseConnection` are older hand-written types (sensors, core)
# without `totalCount`; these lists use the generic connection under other names.
@strawberry.type(name="AlertListEdge")
class AlertListEdge(Edge[Alert]):
    pass


@strawberry.type(name="AlertList")
class AlertList(Connection[Alert]):
    edges: list[AlertListEdge]  # type: ignore[assignment]


@strawberry.type(name="EnterpriseListEdge")
class EnterpriseListEdge(Edge[Enterprise]):
    pass


@strawberry.type(name="EnterpriseList")
class EnterpriseList(Connection[Enterprise]):
    edges: list[EnterpriseListEdge]  # type: ignore[assignment]


def _field(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.field(extensions=requires(*roles), description=description)


def _one_of(value: str | None, allowed: Collection[str], what: str) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidArgument(f"{what} must be one of {', '.join(sorted(allowed))}, "
                              f"got {value[:40]!r}")  # fmt: skip
    return value


def _statuses(values: Sequence[str] | None, kind: str) -> list[str] | None:
    """The status filter checked against the model; None (no filter) when not given."""
    if values is None:
        return None
    allowed = ql.STATUSES[kind]
    for v in values:
        _one_of(v, allowed, "status")
    return list(values)


def _score(value: float | None, what: str) -> float | None:
    if value is not None and not 0.0 <= value <= 1.0:
        raise InvalidArgument(f"{what} is between 0 and 1, got {value}")
    return value


def _own_maker(info: Info[Context, None], maker: str | None) -> str | None:
    """The maker filter: the caller's own username for the service account (which may not
    ask for another's), else what was asked."""
    user = info.context.user
    if user.has_any(frozenset(BOOK_READERS) - {Role.SERVICE}):
        return maker
    if maker is not None and maker != user.username:
        raise Forbidden("the service account lists only what it originated")
    return user.username


def _own_enterprise(info: Info[Context, None], asked: str | None, what: str) -> str | None:
    """The enterprise filter: an enterprise's user's own firm (it may not ask for
    another's), else what was asked."""
    own = info.context.user.enterprise_id
    if own is None:
        return asked
    if asked is not None and asked != own:
        raise Forbidden(f"an enterprise's user lists only its own {what}")
    return own


def _application(row: dict[str, Any]) -> Application:
    return _app(lc._app(row["application"]))


def _financing(row: dict[str, Any]) -> Financing:
    return _fin(lc._fin(row["financing"]))


def _alert_of(row: dict[str, Any]) -> Alert:
    return Alert.from_domain(_alert(row["alert"], row["enterprise_ids"], row["financing_ids"]))


def _voucher_of(row: dict[str, Any]) -> Voucher:
    return _voucher(fv._voucher(row))


def _enterprise(row: dict[str, Any]) -> Enterprise:
    return Enterprise.from_domain(ql.enterprise_of(row))


def _id(value: strawberry.ID | None) -> str | None:
    return str(value) if value is not None else None


# One function per list, called by the root field and by the nested field of `Enterprise`
# (`api/graphql/core.py`), so that both filter, page and scope alike.


async def list_applications(
    info: Info[Context, None], *, status: list[str] | None = None, maker: str | None = None,
    enterprise_id: str | None = None, first: int = 50, after: str | None = None,
) -> Connection[Application]:  # fmt: skip
    skip, limit = window(first, after)
    found = await info.context.call(
        ql.applications, skip=skip, limit=limit, statuses=_statuses(status, "application"),
        maker=_own_maker(info, maker),
        enterprise_id=_own_enterprise(info, enterprise_id, "applications"),
        funder=info.context.user.book,
    )  # fmt: skip
    return from_page(found, _application)


async def list_financings(
    info: Info[Context, None], *, status: list[str] | None = None,
    borrower_id: str | None = None, lender: str | None = None, product_id: str | None = None,
    product_kind: str | None = None, origin: str | None = None,
    maturing_before: date | None = None, risk_class: str | None = None,
    first: int = 50, after: str | None = None,
) -> Connection[Financing]:  # fmt: skip
    skip, limit = window(first, after)
    found = await info.context.call(
        ql.financings, skip=skip, limit=limit, statuses=_statuses(status, "financing"),
        borrower_id=_own_enterprise(info, borrower_id, "financings"), lender=lender,
        product_id=product_id, product_kind=product_kind,
        origin=_one_of(origin, ql.STATUSES["origin"], "origin"),
        maturing_before=maturing_before,
        risk_class=_one_of(risk_class, ql.STATUSES["risk_class"], "riskClass"),
        maker=_own_maker(info, None), funder=info.context.user.book,
    )  # fmt: skip
    return from_page(found, _financing)


def _lines_page(driver: Any, database: str, **kw: Any) -> Connection[CreditLine]:
    found = ql.credit_lines(driver, database, **kw)
    nodes = read_lines(driver, database, [r["line"]["id"] for r in found.rows])
    return from_page(ql.Page([{"node": n} for n in nodes], found.skip, found.total),
                     lambda r: cast(CreditLine, r["node"]))  # fmt: skip


async def list_credit_lines(
    info: Info[Context, None], *, enterprise_id: str | None = None, core_id: str | None = None,
    kind: str | None = None, status: list[str] | None = None, first: int = 50,
    after: str | None = None,
) -> Connection[CreditLine]:  # fmt: skip
    skip, limit = window(first, after)
    return cast(Connection[CreditLine], await info.context.call(
        _lines_page, skip=skip, limit=limit, enterprise_id=enterprise_id, core_id=core_id,
        kind=_one_of(kind, ql.STATUSES["line_kind"], "kind"),
        statuses=_statuses(status, "credit_line"), funder=info.context.user.book,
    ))  # fmt: skip


async def list_vouchers(
    info: Info[Context, None], *, holder_id: str | None = None, issuer_id: str | None = None,
    status: list[str] | None = None, first: int = 50, after: str | None = None,
) -> Connection[Voucher]:  # fmt: skip
    skip, limit = window(first, after)
    found = await info.context.call(
        ql.vouchers, skip=skip, limit=limit, statuses=_statuses(status, "voucher"),
        holder_id=holder_id, issuer_id=issuer_id, party=info.context.user.enterprise_id,
    )  # fmt: skip
    return from_page(found, _voucher_of)


async def list_alerts(
    info: Info[Context, None], *, enterprise_id: str | None = None,
    financing_id: str | None = None, status: list[str] | None = None, kind: str | None = None,
    first: int = 50, after: str | None = None,
) -> AlertList:  # fmt: skip
    if info.context.user.enterprise_id:
        raise Forbidden("alerts are not available to an enterprise's users")
    skip, limit = window(first, after)
    found = await info.context.call(
        ql.alerts, skip=skip, limit=limit, statuses=_statuses(status, "alert"), kind=kind,
        enterprise_id=enterprise_id, financing_id=financing_id,
        funder=info.context.user.book,  # its funder's alerts and the shared chain's
    )  # fmt: skip
    return cast(AlertList, from_page(found, _alert_of))


@strawberry.type
class ListsQuery:
    @_field("Applications, newest first; the service account sees only its own.", BOOK_READERS)
    async def applications(
        self, info: Info[Context, None], status: list[str] | None = None,
        maker: str | None = None, enterprise_id: strawberry.ID | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[Application]:  # fmt: skip
        return await list_applications(info, status=status, maker=maker,
                                       enterprise_id=_id(enterprise_id), first=first,
                                       after=after)  # fmt: skip

    @_field("The caller's review queue: referred applications someone else made, oldest "
            "first.", CHECKERS)  # fmt: skip
    async def review_queue(
        self, info: Info[Context, None], first: First = 50, after: After = None
    ) -> Connection[Application]:
        skip, limit = window(first, after)
        found = await info.context.call(
            ql.review_queue, skip=skip, limit=limit, checker=info.context.user.username,
            funder=info.context.user.book,
        )
        return from_page(found, _application)

    @_field("Financings of both origins, soonest maturity first; the service account sees "
            "only those of its own applications.", BOOK_READERS)  # fmt: skip
    async def financings(
        self, info: Info[Context, None], status: list[str] | None = None,
        borrower_id: strawberry.ID | None = None, lender: str | None = None,
        product_id: strawberry.ID | None = None, product_kind: str | None = None,
        origin: str | None = None,
        maturing_before: date | None = None, risk_class: str | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[Financing]:  # fmt: skip
        return await list_financings(
            info, status=status, borrower_id=_id(borrower_id), lender=lender,
            product_id=_id(product_id), product_kind=product_kind, origin=origin,
            maturing_before=maturing_before, risk_class=risk_class, first=first, after=after,
        )  # fmt: skip

    @_field("Credit lines with their usage: an enterprise's, or a core's chain (its "
            "supply-chain lines and every line part of them).", LINE_READERS)  # fmt: skip
    async def credit_lines_list(
        self, info: Info[Context, None], enterprise_id: strawberry.ID | None = None,
        core_id: strawberry.ID | None = None, kind: str | None = None,
        status: list[str] | None = None, first: First = 50, after: After = None,
    ) -> Connection[CreditLine]:  # fmt: skip
        return await list_credit_lines(
            info, enterprise_id=_id(enterprise_id), core_id=_id(core_id), kind=kind,
            status=status, first=first, after=after,
        )  # fmt: skip

    @_field("E-credit vouchers by holder and issuing core (status live, split, financed, "
            "cleared), soonest due first.", BOOK_READERS)  # fmt: skip
    async def voucher_list(
        self, info: Info[Context, None], holder_id: strawberry.ID | None = None,
        issuer_id: strawberry.ID | None = None, status: list[str] | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[Voucher]:  # fmt: skip
        return await list_vouchers(info, holder_id=_id(holder_id), issuer_id=_id(issuer_id),
                                   status=status, first=first, after=after)  # fmt: skip

    @_field("Alerts about an enterprise or a financing, newest first, with the total.",
            READERS)  # fmt: skip
    async def alert_list(
        self, info: Info[Context, None], enterprise_id: strawberry.ID | None = None,
        financing_id: strawberry.ID | None = None, status: list[str] | None = None,
        kind: str | None = None, first: First = 50, after: After = None,
    ) -> AlertList:  # fmt: skip
        return await list_alerts(
            info, enterprise_id=_id(enterprise_id), financing_id=_id(financing_id),
            status=status, kind=kind, first=first, after=after,
        )  # fmt: skip
    @_field("Enterprises by core flag, region and industry (code prefixes), status and "
            "score ranges, by id.", READERS)  # fmt: skip
    async def enterprise_list(
        self, info: Info[Context, None], is_core: bool | None = None,
        region_code: str | None = None, industry_code: str | None = None,
        status: list[str] | None = None, min_fraud_score: float | None = None,
        max_fraud_score: float | None = None, min_default_score: float | None = None,
        max_default_score: float | None = None, first: First = 50, after: After = None,
    ) -> EnterpriseList:  # fmt: skip
        skip, limit = window(first, after)
        for lo, hi, what in ((min_fraud_score, max_fraud_score, "fraud"),
                             (min_default_score, max_default_score, "default")):  # fmt: skip
            _score(lo, f"min{what.title()}Score")
            _score(hi, f"max{what.title()}Score")
            if lo is not None and hi is not None and lo > hi:
                raise InvalidArgument(f"min{what.title()}Score is above max{what.title()}Score")
        found = await info.context.call(
            ql.enterprises, skip=skip, limit=limit, is_core=is_core, region_code=region_code,
            industry_code=industry_code, statuses=_statuses(status, "enterprise"),
            min_fraud=min_fraud_score, max_fraud=max_fraud_score,
            min_default=min_default_score, max_default=max_default_score,
        )  # fmt: skip
        return cast(EnterpriseList, from_page(found, _enterprise))
