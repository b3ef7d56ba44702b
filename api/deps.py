"""Dependency aliases for routes: the settings, the driver and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError
from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection

from api.availability import unreachable
from api.security import AuthError, CurrentUser, TokenChecker, decode_token
from chainlens.logs import get_logger
from chainlens.settings import Settings

log = get_logger(__name__)

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_driver(request: Request) -> Driver:
    driver: Driver = request.app.state.driver
    return driver


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DriverDep = Annotated[Driver, Depends(get_driver)]


async def user_of_token(connection: HTTPConnection, token: str) -> CurrentUser:
    """The user of a valid, unrevoked token (its version is the user's current one, the
    user exists and is enabled); AuthError otherwise."""
    user, version = decode_token(connection.app.state.settings, token)
    checker: TokenChecker = connection.app.state.tokens
    cached = checker.verify_cached(user, version)
    if cached is not None:
        return cached
    try:
        return await run_in_threadpool(checker.verify, user, version)
    except (Neo4jError, DriverError) as e:  # cannot tell whether it is revoked: refuse, 503
        log.warning("auth.token_check_unavailable", error=repr(e))
        breaker = getattr(connection.app.state, "breaker", None)
        if breaker is not None and unreachable(e):
            breaker.trip(e)
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "authentication is unavailable; retry shortly",
            headers={"Retry-After": "5"},
        ) from e


async def get_optional_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser | None:
    """The user of a valid bearer token, None without one; a bad token is always a 401."""
    if credentials is None:
        return None
    try:
        return await user_of_token(request, credentials.credentials)
    except AuthError as e:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}
        ) from e


def get_current_user(
    user: Annotated[CurrentUser | None, Depends(get_optional_user)],
) -> CurrentUser:
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "authentication required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


OptionalUserDep = Annotated[CurrentUser | None, Depends(get_optional_user)]
CurrentUserDep = Annotated[CurrentUser, Depends(get_current_user)]
