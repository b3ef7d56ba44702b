"""Platform users (API logins) stored as `(:User)` nodes; passwords arrive already hashed.

Each user carries a `token_version`: tokens are issued with it, and every change that must
revoke them (a new password, other roles, disabling) increments it in the same write, so
that a token of an older version is refused (api/security.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from neo4j import Driver, RoutingControl

# Creates the user, or changes it when `$update`; answers whether it existed before. A
# change of password or roles increments the token version, revoking older tokens.
_SAVE_USER = """
OPTIONAL MATCH (old:User {username: $username})
WITH old, old IS NOT NULL AS existed
CALL (old, existed) {
    WITH old, existed WHERE NOT existed
    CREATE (u:User {username: $username, id: $username, created_at: datetime(),
                    password_hash: $password_hash, roles: $roles, disabled: false,
                    token_version: 1, updated_at: datetime(), funder_id: $funder_id,
                    enterprise_id: $enterprise_id})
    RETURN u
  UNION
    WITH old, existed WHERE existed AND $update
    SET old.password_hash = $password_hash, old.roles = $roles, old.disabled = false,
        old.token_version = coalesce(old.token_version, 0) + 1, old.updated_at = datetime(),
        old.funder_id = $funder_id, old.enterprise_id = $enterprise_id
    RETURN old AS u
  UNION
    WITH old, existed WHERE existed AND NOT $update
    RETURN old AS u
}
RETURN existed
"""
_SET_DISABLED = """
MATCH (u:User {username: $username})
SET u.disabled = $disabled, u.token_version = coalesce(u.token_version, 0) + 1,
    u.updated_at = datetime()
RETURN u.username AS username
"""
# Binds a user to a funder and/or an enterprise (null: unbound), revoking its tokens (their
# claims name the old binding).
_BIND_USER = """
MATCH (u:User {username: $username})
SET u.funder_id = $funder_id, u.enterprise_id = $enterprise_id,
    u.token_version = coalesce(u.token_version, 0) + 1, u.updated_at = datetime()
RETURN u.username AS username
"""
_REMOVE_USER = """
MATCH (u:User {username: $username})
DETACH DELETE u
RETURN count(*) AS removed
"""
_FIELDS = """u.username AS username, u.password_hash AS password_hash, u.roles AS roles,
       coalesce(u.disabled, false) AS disabled, u.created_at AS created_at,
       coalesce(u.token_version, 0) AS token_version, u.funder_id AS funder_id,
       u.enterprise_id AS enterprise_id"""
_GET_USER = f"""
MATCH (u:User {{username: $username}})
RETURN {_FIELDS}
"""
_LIST_USERS = f"""
MATCH (u:User)
RETURN {_FIELDS}
ORDER BY u.username
"""
_TOKEN_STATE = """
MATCH (u:User {username: $username})
RETURN coalesce(u.token_version, 0) AS token_version, coalesce(u.disabled, false) AS disabled,
       u.roles AS roles
"""


@dataclass(frozen=True, slots=True)
class StoredUser:
    username: str
    password_hash: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime | None
    token_version: int = 0
    funder_id: str | None = None  # the funder whose book the user works in (None: unbound)
    enterprise_id: str | None = None  # the firm on the chain the user acts for


@dataclass(frozen=True, slots=True)
class TokenState:
    """What a token is checked against on every request."""

    token_version: int
    disabled: bool
    roles: tuple[str, ...]


def _to_user(record: dict[str, object]) -> StoredUser:
    created = record["created_at"]
    return StoredUser(
        username=str(record["username"]),
        password_hash=str(record["password_hash"]),
        roles=tuple(cast(list[str], record["roles"] or [])),
        disabled=bool(record["disabled"]),
        created_at=created.to_native() if created is not None else None,  # type: ignore[attr-defined]
        token_version=int(cast(int, record["token_version"])),
        funder_id=cast(str | None, record.get("funder_id")),
        enterprise_id=cast(str | None, record.get("enterprise_id")),
    )


def save_user(
    driver: Driver,
    database: str,
    username: str,
    password_hash: str,
    roles: list[str],
    *,
    update: bool,
    funder_id: str | None = None,
    enterprise_id: str | None = None,
) -> bool:
    """Create the user, or (``update``) replace its password, roles and binding (funder,
    enterprise) and revoke its tokens; returns whether it existed. An existing user is left
    alone without ``update``."""
    records, _, _ = driver.execute_query(
        _SAVE_USER,
        username=username,
        password_hash=password_hash,
        roles=sorted(set(roles)),
        update=update,
        funder_id=funder_id,
        enterprise_id=enterprise_id,
        database_=database,
    )
    return bool(records[0]["existed"])


def bind_user(
    driver: Driver, database: str, username: str, funder_id: str | None,
    enterprise_id: str | None,
) -> bool:  # fmt: skip
    """Bind a user to a funder and/or an enterprise (None unbinds), revoking its tokens;
    False when there is no such user."""
    records, _, _ = driver.execute_query(
        _BIND_USER, username=username, funder_id=funder_id, enterprise_id=enterprise_id,
        database_=database,
    )  # fmt: skip
    return bool(records)


def upsert_user(
    driver: Driver, database: str, username: str, password_hash: str, roles: list[str]
) -> None:
    """Create the user or replace its password and roles (idempotent by username)."""
    save_user(driver, database, username, password_hash, roles, update=True)


def set_disabled(driver: Driver, database: str, username: str, disabled: bool) -> bool:
    """Disable (or enable) a user, revoking its tokens; False when there is no such user."""
    records, _, _ = driver.execute_query(
        _SET_DISABLED, username=username, disabled=disabled, database_=database
    )
    return bool(records)


def remove_user(driver: Driver, database: str, username: str) -> bool:
    """Delete a user; False when there was none."""
    records, _, _ = driver.execute_query(_REMOVE_USER, username=username, database_=database)
    return bool(records and records[0]["removed"])


def get_user(driver: Driver, database: str, username: str) -> StoredUser | None:
    records, _, _ = driver.execute_query(
        _GET_USER, username=username, database_=database, routing_=RoutingControl.READ
    )
    return _to_user(records[0].data()) if records else None


def get_token_state(driver: Driver, database: str, username: str) -> TokenState | None:
    """The user's token version, status and roles (one small read); None when removed."""
    records, _, _ = driver.execute_query(
        _TOKEN_STATE, username=username, database_=database, routing_=RoutingControl.READ
    )
    if not records:
        return None
    r = records[0]
    return TokenState(int(r["token_version"]), bool(r["disabled"]), tuple(r["roles"] or ()))


def list_users(driver: Driver, database: str) -> list[StoredUser]:
    records, _, _ = driver.execute_query(
        _LIST_USERS, database_=database, routing_=RoutingControl.READ
    )
    return [_to_user(r.data()) for r in records]
