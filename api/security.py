"""Authentication: roles, argon2 password hashes (pwdlib), JWT access tokens (pyjwt)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import jwt
from neo4j import Driver
from pwdlib import PasswordHash

from chainlens.settings import Settings
from graph.users import get_user, upsert_user

_hasher = PasswordHash.recommended()  # argon2id
_ALGORITHM = "HS256"
MIN_PASSWORD_LENGTH = 10


class Role(StrEnum):
    ANALYST = "analyst"
    CREDIT_OFFICER = "credit_officer"
    RELATIONSHIP_MANAGER = "relationship_manager"
    ADMIN = "admin"
    SERVICE = "service"


class AuthError(Exception):
    """Bad credentials or token; always answered with 401 and no detail that helps guessing."""

    http_status = 401


@dataclass(frozen=True, slots=True)
class CurrentUser:
    username: str
    roles: frozenset[Role]

    def has_any(self, roles: frozenset[Role]) -> bool:
        """Admins may do everything; everyone else needs one of ``roles``."""
        return Role.ADMIN in self.roles or bool(self.roles & roles)


def parse_roles(values: list[str]) -> list[Role]:
    try:
        return [Role(v) for v in values]
    except ValueError as e:
        allowed = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role in {values}; roles are: {allowed}") from e


def add_user(
    driver: Driver, database: str, username: str, password: str, roles: list[Role]
) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if not roles:
        raise ValueError("a user needs at least one role")
    upsert_user(driver, database, username, _hasher.hash(password), [r.value for r in roles])


def authenticate(driver: Driver, database: str, username: str, password: str) -> CurrentUser:
    user = get_user(driver, database, username)
    if user is None:
        _hasher.hash(password)  # same cost as a wrong password: no user enumeration by timing
        raise AuthError("invalid username or password")
    if user.disabled or not _hasher.verify(password, user.password_hash):
        raise AuthError("invalid username or password")
    return CurrentUser(user.username, frozenset(parse_roles(list(user.roles))))


def issue_token(settings: Settings, user: CurrentUser) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": user.username,
        "roles": sorted(r.value for r in user.roles),
        "iat": now,
        "exp": now + timedelta(minutes=settings.jwt_ttl_minutes),
        "iss": "chainlens",
    }
    return jwt.encode(claims, settings.effective_jwt_secret().get_secret_value(), _ALGORITHM)


def verify_token(settings: Settings, token: str) -> CurrentUser:
    try:
        claims = jwt.decode(
            token,
            settings.effective_jwt_secret().get_secret_value(),
            algorithms=[_ALGORITHM],
            issuer="chainlens",
            options={"require": ["exp", "sub", "iat"]},
        )
        return CurrentUser(
            str(claims["sub"]), frozenset(parse_roles(list(claims.get("roles", []))))
        )
    except (jwt.PyJWTError, ValueError) as e:
        raise AuthError("invalid or expired token") from e
