"""Dependency aliases for routes: the settings, the driver and the authenticated user."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from neo4j import Driver

from api.security import AuthError, CurrentUser, verify_token
from chainlens.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_driver(request: Request) -> Driver:
    driver: Driver = request.app.state.driver
    return driver


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
DriverDep = Annotated[Driver, Depends(get_driver)]


def get_optional_user(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> CurrentUser | None:
    """The user of a valid bearer token, None without one; a bad token is always a 401."""
    if credentials is None:
        return None
    try:
        return verify_token(settings, credentials.credentials)
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
