"""A user's watch list (issue #23): the firms someone follows, with their open alerts; each
user reads and changes only their own list."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import READERS, requires
from finance.errors import NotFound
from graph.queries import watchlist as q


@strawberry.type(description="An open alert about a watched firm.")
class WatchedAlert:
    id: strawberry.ID
    kind: str
    severity: str
    raised_at: datetime | None


@strawberry.type(description="A firm on the caller's watch list.")
class WatchedFirm:
    id: strawberry.ID
    name: str | None
    since: datetime | None
    fraud_score: float | None
    default_score: float | None
    open_alerts: int = strawberry.field(description="Open alerts about the firm.")
    latest_alerts: list[WatchedAlert] = strawberry.field(
        description="The three most recent of them.")

    @classmethod
    def of(cls, row: dict[str, Any]) -> WatchedFirm:
        return cls(
            id=strawberry.ID(row["id"]), name=row["name"], since=_native(row["since"]),
            fraud_score=row["fraud_score"], default_score=row["default_score"],
            open_alerts=row["open_alerts"],
            latest_alerts=[WatchedAlert(id=strawberry.ID(a["id"]), kind=a["kind"],
                                        severity=a["severity"],
                                        raised_at=_native(a.get("raised_at")))
                           for a in row["latest_alerts"]],
        )  # fmt: skip


def _native(value: Any) -> datetime | None:
    native: datetime | None = value.to_native() if hasattr(value, "to_native") else value
    return native


async def _list(info: Info[Context, None]) -> list[WatchedFirm]:
    user = info.context.user
    rows = await info.context.call(q.watch_list, user.username, user.book)
    return [WatchedFirm.of(r) for r in rows]


@strawberry.type
class WatchListQuery:
    @strawberry.field(extensions=requires(*READERS),
                      description="The caller's watch list, the firms with most open alerts "
                      "first.")  # fmt: skip
    async def watch_list(self, info: Info[Context, None]) -> list[WatchedFirm]:
        return await _list(info)


@strawberry.type
class WatchListMutation:
    @strawberry.mutation(extensions=requires(*READERS),
                         description="Add a firm to the caller's watch list (again: no "
                         "change); answers the list.")  # fmt: skip
    async def watch_enterprise(
        self, info: Info[Context, None], enterprise_id: strawberry.ID
    ) -> list[WatchedFirm]:
        found = await info.context.call(q.watch, info.context.user.username, str(enterprise_id),
                                        datetime.now(UTC))  # fmt: skip
        if not found:
            raise NotFound(f"no enterprise {enterprise_id}")
        return await _list(info)

    @strawberry.mutation(extensions=requires(*READERS),
                         description="Take a firm off the caller's watch list; answers the "
                         "list.")  # fmt: skip
    async def unwatch_enterprise(
        self, info: Info[Context, None], enterprise_id: strawberry.ID
    ) -> list[WatchedFirm]:
        await info.context.call(q.unwatch, info.context.user.username, str(enterprise_id))
        return await _list(info)
