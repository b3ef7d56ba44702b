"""Platform users (API logins) stored as `(:User)` nodes; passwords arrive already hashed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from neo4j import Driver, RoutingControl

_UPSERT_USER = """
MERGE (u:User {username: $username})
ON CREATE SET u.id = $username, u.created_at = datetime()
SET u.password_hash = $password_hash, u.roles = $roles, u.disabled = false,
    u.updated_at = datetime()
RETURN u.created_at AS created_at
"""
_GET_USER = """
MATCH (u:User {username: $username})
RETURN u.username AS username, u.password_hash AS password_hash, u.roles AS roles,
       coalesce(u.disabled, false) AS disabled, u.created_at AS created_at
"""
_LIST_USERS = """
MATCH (u:User)
RETURN u.username AS username, u.password_hash AS password_hash, u.roles AS roles,
       coalesce(u.disabled, false) AS disabled, u.created_at AS created_at
ORDER BY u.username
"""


@dataclass(frozen=True, slots=True)
class StoredUser:
    username: str
    password_hash: str
    roles: tuple[str, ...]
    disabled: bool
    created_at: datetime | None


def _to_user(record: dict[str, object]) -> StoredUser:
    created = record["created_at"]
    return StoredUser(
        username=str(record["username"]),
        password_hash=str(record["password_hash"]),
        roles=tuple(cast(list[str], record["roles"] or [])),
        disabled=bool(record["disabled"]),
        created_at=created.to_native() if created is not None else None,  # type: ignore[attr-defined]
    )


def upsert_user(
    driver: Driver, database: str, username: str, password_hash: str, roles: list[str]
) -> None:
    """Create the user or replace its password and roles (idempotent by username)."""
    driver.execute_query(
        _UPSERT_USER,
        username=username,
        password_hash=password_hash,
        roles=sorted(set(roles)),
        database_=database,
    )


def get_user(driver: Driver, database: str, username: str) -> StoredUser | None:
    records, _, _ = driver.execute_query(
        _GET_USER, username=username, database_=database, routing_=RoutingControl.READ
    )
    return _to_user(records[0].data()) if records else None


def list_users(driver: Driver, database: str) -> list[StoredUser]:
    records, _, _ = driver.execute_query(
        _LIST_USERS, database_=database, routing_=RoutingControl.READ
    )
    return [_to_user(r.data()) for r in records]
