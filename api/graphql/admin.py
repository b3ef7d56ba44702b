"""Administration queries, for the `admin` role only."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.security import Role
from graph.users import StoredUser, list_users


@strawberry.type(description="A login of the platform (the password hash is never exposed).")
class User:
    username: str
    roles: list[str]
    disabled: bool
    created_at: datetime | None


@strawberry.type
class AdminQuery:
    @strawberry.field(extensions=requires(Role.ADMIN), description="Every user and its roles.")
    async def users(self, info: Info[Context, None]) -> list[User]:
        users = cast(list[StoredUser], await info.context.call(list_users))
        return [
            User(
                username=u.username,
                roles=list(u.roles),
                disabled=u.disabled,
                created_at=u.created_at,
            )
            for u in users
        ]
