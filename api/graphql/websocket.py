"""Authentication of GraphQL over websockets (subscriptions, graphql-transport-ws).

Browsers cannot set headers on a websocket, so the bearer token comes in the
`connection_init` payload, `{"Authorization": "Bearer <token>"}`. A connection without a
valid token (or over its user's rate limit) is closed with 4403 before anything runs;
strawberry refuses every `subscribe` sent before the acknowledgement with 4401.
"""

from __future__ import annotations

from typing import Any

from neo4j.exceptions import DriverError, Neo4jError
from starlette.concurrency import run_in_threadpool
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from api.graphql.context import Context
from api.limits import RateLimited, RateLimiter
from api.security import AuthError, TokenChecker, decode_token
from chainlens.settings import Settings

PROTOCOLS = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)


def bearer_token(value: object) -> str:
    """The token of an `Authorization` value `Bearer <token>`; AuthError otherwise."""
    if not isinstance(value, str):
        raise AuthError("authentication required")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("authentication required")
    return token.strip()


class AuthenticatedGraphQLRouter(GraphQLRouter[Context, None]):
    """`GraphQLRouter` whose websocket connections must authenticate in `connection_init`."""

    def __init__(
        self,
        *args: Any,
        settings: Settings,
        limiter: RateLimiter,
        app_state: Any = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("subscription_protocols", PROTOCOLS)
        super().__init__(*args, **kwargs)
        self._settings = settings
        self._limiter = limiter
        # The app's state: its TokenChecker (`tokens`) is there once the app has started.
        self._app_state = app_state

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization", params.get("authorization"))
        try:
            user, version = decode_token(self._settings, bearer_token(header))
            checker: TokenChecker | None = getattr(self._app_state, "tokens", None)
            if checker is not None:  # a revoked token opens no subscription either
                cached = checker.verify_cached(user, version)
                if cached is None:
                    cached = await run_in_threadpool(checker.verify, user, version)
                user = cached
            self._limiter.take(user.username)
        except (AuthError, RateLimited) as e:
            raise ConnectionRejectionError({"message": str(e)}) from e
        except (Neo4jError, DriverError) as e:  # revocation cannot be checked: refuse
            raise ConnectionRejectionError({"message": "authentication is unavailable"}) from e
        context.user = user
        unset: UnsetType = UNSET
        return unset
