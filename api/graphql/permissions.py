"""Role checks for GraphQL fields: ``extensions=requires(Role.ANALYST, ...)``.

A denied field answers with a FORBIDDEN error and the HTTP status 403; admins pass every check.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from api.security import Role

READERS = (Role.ANALYST, Role.CREDIT_OFFICER, Role.RELATIONSHIP_MANAGER, Role.SERVICE)
# Lists of the book: the credit side and the service account (filtered to its own).
BOOK_READERS = (
    Role.CREDIT_OFFICER, Role.ANALYST, Role.RELATIONSHIP_MANAGER, Role.SERVICE,
)  # fmt: skip
LINE_READERS = (Role.CREDIT_OFFICER, Role.ANALYST, Role.RELATIONSHIP_MANAGER)
CHECKERS = (Role.CREDIT_OFFICER,)


class HasRole(BasePermission):
    message = "your role does not allow this field"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012 (strawberry reads it as is)

    def __init__(self, roles: tuple[Role, ...]) -> None:
        self.roles = frozenset(roles)

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        allowed = bool(info.context.user.has_any(self.roles))
        if not allowed and info.context.response is not None:
            info.context.response.status_code = 403
        return allowed


def requires(*roles: Role) -> list[FieldExtension]:
    return [PermissionExtension(permissions=[HasRole(roles)])]
