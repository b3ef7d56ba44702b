"""Core queries: one enterprise with its neighbourhood, name search, graph counts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated, cast

import strawberry
from neo4j.exceptions import ClientError
from strawberry.scalars import JSON
from strawberry.types import Info
from strawberry.types.nodes import SelectedField

from api.graphql.context import Context
from api.graphql.explorer import enterprise_card_loader, neighbourhood_loader
from api.graphql.pagination import After, Connection, First, PageInfo
from api.graphql.permissions import BOOK_READERS, LINE_READERS, READERS, requires
from api.graphql.resolution import SourceRecordMatch, branch_links, source_records
from api.graphql.scalars import BigInt
from graph import enterprises as domain
from graph.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from api.graphql.credit import CreditLine
    from api.graphql.finance import Application, Financing, Voucher
    from api.graphql.lists import AlertList

# The book's types import this module: the nested lists name them lazily.
_Application = Annotated["Application", strawberry.lazy("api.graphql.finance")]
_Financing = Annotated["Financing", strawberry.lazy("api.graphql.finance")]
_Voucher = Annotated["Voucher", strawberry.lazy("api.graphql.finance")]
_CreditLine = Annotated["CreditLine", strawberry.lazy("api.graphql.credit")]
_AlertList = Annotated["AlertList", strawberry.lazy("api.graphql.lists")]

# Search text: long enough for any name or USCC, short enough to cost the index nothing.
MAX_SEARCH_CHARS = 200
# Words Lucene's query parser reads as operators; the domain escapes special characters but
# not these, so a name containing "AND" would break the query (they are matched lowercased,
# which is what the index's analyzer does with every word anyway).
_LUCENE_WORDS = frozenset({"AND", "OR", "NOT", "TO"})


def _neighbourhood_limit(info: Info[Context, None]) -> int | None:
    """The `limit` of the one `neighbourhood` the enterprise field selects directly, when
    it is valid; None otherwise (none, several, or in fragments: loaded on their own)."""
    picked = [
        s for s in info.selected_fields[0].selections
        if isinstance(s, SelectedField) and s.name == "neighbourhood"
    ]  # fmt: skip
    if len(picked) != 1:
        return None
    # A literal argument comes as its source text ("20"), a variable as its value.
    given = picked[0].arguments.get("limit", 100)
    try:
        limit = int(given)
    except (TypeError, ValueError):
        return None
    return limit if 1 <= limit <= domain.MAX_NEIGHBOURS else None


def lucene_safe(text: str) -> str:
    """``text`` with the words Lucene reads as operators lowercased, so that it is searched
    for, not parsed."""
    return " ".join(w.lower() if w in _LUCENE_WORDS else w for w in text.split())


@strawberry.type(description="A neighbour of an enterprise and the relationship that links them.")
class Neighbour:
    relationship: str
    outgoing: bool = strawberry.field(description="True when the enterprise is the start node.")
    label: str
    id: strawberry.ID
    name: str
    properties: JSON


@strawberry.type(description="A legal entity: a firm in one or more industrial chains.")
class Enterprise:
    id: strawberry.ID
    name: str
    name_en: str | None
    uscc: str | None
    uscc_valid: bool | None
    legal_form: str | None
    region_code: str | None
    industry_code: str | None
    registered_capital: BigInt | None
    currency: str | None
    founded_on: date | None
    status: str | None
    is_core: bool
    fraud_score: float | None
    default_score: float | None
    # The neighbourhood read with the enterprise in one query (the card): (limit, rows).
    preloaded: strawberry.Private[tuple[int, list[domain.Neighbour]] | None] = None

    @strawberry.field(description="Relationships touching this enterprise, heaviest first.")
    async def neighbourhood(self, info: Info[Context, None], limit: int = 100) -> list[Neighbour]:
        if not 1 <= limit <= domain.MAX_NEIGHBOURS:
            raise InvalidArgument(f"limit must be between 1 and {domain.MAX_NEIGHBOURS}")
        eid = str(self.id)
        if self.preloaded is not None and self.preloaded[0] == limit:
            rows = self.preloaded[1]
        else:
            # Batched: a list of enterprises loads all their neighbourhoods in one round
            # trip; cached until this process serves a write.
            rows = await info.context.cached(
                ("neighbourhood", eid, limit),
                lambda: neighbourhood_loader(info.context, limit).load(eid),
            )
        return [
            Neighbour(
                relationship=n.relationship,
                outgoing=n.outgoing,
                label=n.label,
                id=strawberry.ID(n.id),
                name=n.name,
                properties=cast(JSON, n.properties),
            )
            for n in rows
        ]

    @strawberry.field(description="The source records resolved to this enterprise, with why.")
    async def source_records(self, info: Info[Context, None]) -> list[SourceRecordMatch]:
        return await source_records(info, str(self.id))

    @strawberry.field(description="The enterprise this one is a branch of (BRANCH_OF).")
    async def branch_of(self, info: Info[Context, None]) -> Enterprise | None:
        parents, _ = await branch_links(info, str(self.id))
        found = [e for e in await info.context.enterprise_loader.load_many(parents) if e]
        return Enterprise.from_domain(found[0]) if found else None

    @strawberry.field(description="This enterprise's branches (BRANCH_OF to it).")
    async def branches(self, info: Info[Context, None]) -> list[Enterprise]:
        _, branches = await branch_links(info, str(self.id))
        found = await info.context.enterprise_loader.load_many(branches)
        return [Enterprise.from_domain(e) for e in found if e is not None]

    # The lists of `api/graphql/lists.py` narrowed to this enterprise, with the same filters,
    # roles and scoping (the service account sees only what it originated).

    @strawberry.field(extensions=requires(*BOOK_READERS),
                      description="Applications of this enterprise, newest first.")  # fmt: skip
    async def applications(
        self, info: Info[Context, None], status: list[str] | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[_Application]:  # fmt: skip
        from api.graphql import lists

        return await lists.list_applications(info, enterprise_id=str(self.id), status=status,
                                             first=first, after=after)  # fmt: skip

    @strawberry.field(extensions=requires(*BOOK_READERS),
                      description="Financings this enterprise borrowed (both origins), "
                                  "soonest maturity first.")  # fmt: skip
    async def financings(
        self, info: Info[Context, None], status: list[str] | None = None,
        maturing_before: date | None = None, risk_class: str | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[_Financing]:  # fmt: skip
        from api.graphql import lists

        return await lists.list_financings(
            info, borrower_id=str(self.id), status=status, maturing_before=maturing_before,
            risk_class=risk_class, first=first, after=after,
        )  # fmt: skip

    @strawberry.field(extensions=requires(*LINE_READERS),
                      description="Credit lines of this enterprise, with their usage; for a "
                                  "core, also its chain's (`chain: true`).")  # fmt: skip
    async def credit_lines(
        self, info: Info[Context, None], chain: bool = False, kind: str | None = None,
        status: list[str] | None = None, first: First = 50, after: After = None,
    ) -> Connection[_CreditLine]:  # fmt: skip
        from api.graphql import lists

        own = {"core_id": str(self.id)} if chain else {"enterprise_id": str(self.id)}
        return await lists.list_credit_lines(info, kind=kind, status=status, first=first,
                                             after=after, **own)  # fmt: skip

    @strawberry.field(extensions=requires(*BOOK_READERS),
                      description="E-credit vouchers this enterprise holds, soonest due "
                                  "first.")  # fmt: skip
    async def vouchers(
        self, info: Info[Context, None], status: list[str] | None = None,
        first: First = 50, after: After = None,
    ) -> Connection[_Voucher]:  # fmt: skip
        from api.graphql import lists

        return await lists.list_vouchers(info, holder_id=str(self.id), status=status,
                                         first=first, after=after)  # fmt: skip

    @strawberry.field(extensions=requires(*READERS),
                      description="Alerts about this enterprise, newest first.")  # fmt: skip
    async def alerts(
        self, info: Info[Context, None], status: list[str] | None = None,
        kind: str | None = None, first: First = 50, after: After = None,
    ) -> _AlertList:
        from api.graphql import lists

        return await lists.list_alerts(info, enterprise_id=str(self.id), status=status,
                                       kind=kind, first=first, after=after)  # fmt: skip

    @classmethod
    def from_domain(cls, e: domain.Enterprise) -> Enterprise:
        return cls(
            id=strawberry.ID(e.id),
            name=e.name,
            name_en=e.name_en,
            uscc=e.uscc,
            uscc_valid=e.uscc_valid,
            legal_form=e.legal_form,
            region_code=e.region_code,
            industry_code=e.industry_code,
            registered_capital=BigInt(e.registered_capital)
            if e.registered_capital is not None
            else None,
            currency=e.currency,
            founded_on=e.founded_on,
            status=e.status,
            is_core=e.is_core,
            fraud_score=e.fraud_score,
            default_score=e.default_score,
        )


@strawberry.type
class EnterpriseEdge:
    cursor: str
    node: Enterprise


@strawberry.type
class EnterpriseConnection:
    edges: list[EnterpriseEdge]
    page_info: PageInfo


@strawberry.type
class Count:
    name: str
    count: int


@strawberry.type(description="How many nodes of each label and relationships of each type.")
class Stats:
    nodes: list[Count]
    relationships: list[Count]


@strawberry.type
class CoreQuery:
    @strawberry.field(extensions=requires(*READERS), description="One enterprise by its id.")
    async def enterprise(self, info: Info[Context, None], id: strawberry.ID) -> Enterprise:
        eid = str(id)
        limit = _neighbourhood_limit(info)
        if limit is None:
            found = await info.context.cached(
                ("enterprise", eid), lambda: info.context.enterprise_loader.load(eid)
            )
            if found is None:
                raise NotFound(f"no enterprise with id {id!r}")
            return Enterprise.from_domain(found)
        # The card: the enterprise and its neighbourhood in one round trip, cached together
        # until this process serves a write.
        card = await info.context.cached(
            ("enterprise_card", eid, limit),
            lambda: enterprise_card_loader(info.context, limit).load(eid),
        )
        if card is None:
            raise NotFound(f"no enterprise with id {id!r}")
        out = Enterprise.from_domain(card[0])
        out.preloaded = (limit, card[1])
        return out

    @strawberry.field(
        extensions=requires(*READERS),
        description="Enterprises whose name, English name or USCC matches, best first.",
    )
    async def search_enterprises(
        self,
        info: Info[Context, None],
        text: str,
        first: Annotated[int, strawberry.argument(description="At most 200.")] = 20,
        after: str | None = None,
    ) -> EnterpriseConnection:
        if len(text) > MAX_SEARCH_CHARS:
            raise InvalidArgument(f"search text is at most {MAX_SEARCH_CHARS} characters")
        try:
            page = cast(
                domain.SearchPage,
                await info.context.call(domain.search_enterprises, lucene_safe(text), first, after),
            )
        except ClientError as e:  # a query the full-text index could not parse
            if e.code != "Neo.ClientError.Procedure.ProcedureCallFailed":
                raise
            raise InvalidArgument("search text could not be searched; leave out operators") from e
        found = await info.context.enterprise_loader.load_many(page.ids)
        offset = domain.decode_cursor(after)
        edges = [
            EnterpriseEdge(
                cursor=domain.encode_cursor(offset + i + 1), node=Enterprise.from_domain(e)
            )
            for i, e in enumerate(found)
            if e is not None
        ]
        return EnterpriseConnection(
            edges=edges,
            page_info=PageInfo(end_cursor=page.end_cursor, has_next_page=page.has_next_page),
        )

    @strawberry.field(extensions=requires(*READERS), description="Counts per label and type.")
    async def stats(self, info: Info[Context, None]) -> Stats:
        s = cast(domain.GraphStats, await info.context.call(domain.graph_stats))
        return Stats(
            nodes=[Count(name=k, count=v) for k, v in s.nodes.items()],
            relationships=[Count(name=k, count=v) for k, v in s.relationships.items()],
        )
