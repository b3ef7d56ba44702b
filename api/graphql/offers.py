"""Offers of one application to several funders in GraphQL (`finance/offers.py`):
`offerApplication` records one offer per funder, each funder's credit officer decides its
own (`decideOffer`, which holds that funder's line), the borrower accepts one
(`acceptOffer`): the others lapse and their holds are released. Who may call each is in
`api/graphql/scoping.py` (a funder decides only its own offers; an enterprise's user offers
and accepts only for its own firm)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.finance import APPLICANTS, CREDIT, Application, _app, _checker_role, _maker_role
from api.graphql.permissions import requires
from api.graphql.scalars import BigInt
from api.security import Role
from finance import offers as fo


def _mutation(description: str, roles: tuple[Role, ...]) -> Any:
    return strawberry.mutation(extensions=requires(*roles), description=description)


@strawberry.input(description="An application offered to several funders at once.")
class OfferInput:
    id: strawberry.ID = strawberry.field(
        description="The request's id (no '@'); each funder's offer is `<id>@<funderId>`.")
    enterprise_id: strawberry.ID
    product_id: strawberry.ID
    amount: BigInt
    funder_ids: list[strawberry.ID] = strawberry.field(description="2 to 10 funders.")
    currency: str = "CNY"
    collateral_ids: list[strawberry.ID] = strawberry.field(default_factory=list)


@strawberry.type
class OffersMutation:
    @_mutation("Offer an application to several funders: one application per funder, each "
               "waiting for that funder's decision. The same request again returns the "
               "offers.", APPLICANTS)  # fmt: skip
    async def offer_application(
        self, info: Info[Context, None], input: OfferInput
    ) -> list[Application]:
        req = fo.OfferRequest(
            id=str(input.id), enterprise_id=str(input.enterprise_id),
            product_id=str(input.product_id), amount_minor=int(input.amount),
            currency=input.currency, collateral_ids=tuple(str(c) for c in input.collateral_ids),
            funder_ids=tuple(str(f) for f in input.funder_ids),
            maker=info.context.user.username, maker_role=_maker_role(info),
        )  # fmt: skip
        return [_app(a) for a in await info.context.call(fo.offer, req)]

    @_mutation("A funder's decision on its offer: approve (holding its line for the amount, "
               "at most what was asked, at the rate; the product's base rate by default) or "
               "decline.", CREDIT)  # fmt: skip
    async def decide_offer(
        self, info: Info[Context, None], id: strawberry.ID, approve: bool,
        amount: BigInt | None = None, rate_bps: int | None = None, note: str = "",
    ) -> Application:  # fmt: skip
        return _app(await info.context.call(
            fo.decide_offer, str(id), info.context.user.username, _checker_role(info), approve,
            amount_minor=int(amount) if amount is not None else None, rate_bps=rate_bps,
            note=note))  # fmt: skip

    @_mutation("The borrower accepts one offer: it becomes an approved financing (collateral "
               "pledged and registered); every other offer of the request lapses and its "
               "hold is released. Accepting again answers the same.", APPLICANTS)  # fmt: skip
    async def accept_offer(self, info: Info[Context, None], id: strawberry.ID) -> list[Application]:
        user = info.context.user
        return [_app(a) for a in await info.context.call(
            fo.accept_offer, str(id), user.username, user.enterprise_id)]  # fmt: skip
