"""The audit trail in GraphQL: an extension that records every operation's decision, and the
`auditEvents` query for admins."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import Info

from api.audit import AuditLog, new_event
from api.errors import error_code_of, is_domain_error
from api.graphql.context import Context
from api.graphql.pagination import PageInfo
from api.graphql.permissions import requires
from api.security import Role
from graph.errors import InvalidArgument
from graph.queries.audit import AuditEvent, read_audit_events

MAX_PAGE = 200


def audit_log_of(context: Any) -> AuditLog | None:
    request = getattr(context, "request", None)
    state = getattr(getattr(request, "app", None), "state", None)
    audit = getattr(state, "audit", None)
    return audit if isinstance(audit, AuditLog) else None


def classify(errors: list[GraphQLError] | None) -> tuple[str, str | None]:
    """The decision about an operation from its errors: rejected (invalid or over a limit,
    nothing ran), denied (a role check failed), error (internal) or allowed; and the codes."""
    if not errors:
        return "allowed", None
    codes: set[str] = set()
    found: set[str] = set()
    for error in errors:
        original = error.original_error
        code = (error.extensions or {}).get("code")
        if code == "FORBIDDEN":
            found.add("denied")
        elif error.path is None and (original is None or isinstance(original, GraphQLError)):
            found.add("rejected")
            code = code or "BAD_REQUEST"
        elif original is not None and is_domain_error(original):
            code = error_code_of(original)
        elif original is not None and not isinstance(original, GraphQLError):
            found.add("error")
            code = "INTERNAL"
        if code:
            codes.add(str(code))
    decision = next((d for d in ("rejected", "denied", "error") if d in found), "allowed")
    return decision, ",".join(sorted(codes)) or None


class AuditTrail(SchemaExtension):
    """Records who ran which operation, on which fields, and the decision, after it ran."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        ec = self.execution_context
        context = ec.context
        user = getattr(context, "user", None)
        audit = audit_log_of(context)
        if user is None or audit is None:
            return
        fields: list[str] = []
        operation_name = ec.operation_name
        document = ec.graphql_document
        if document is not None:
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode) and (
                    operation_name is None
                    or (definition.name and definition.name.value == operation_name)
                ):
                    operation_name = operation_name or (
                        definition.name.value if definition.name else None
                    )
                    fields += [
                        s.name.value
                        for s in definition.selection_set.selections
                        if hasattr(s, "name")
                    ]
        result = ec.result
        decision, detail = classify(result.errors if result is not None else None)
        audit.record(
            new_event(
                username=user.username,
                roles=[r.value for r in user.roles],
                kind="graphql",
                operation=operation_name,
                fields=fields,
                decision=decision,
                detail=detail,
                correlation_id=getattr(context, "correlation_id", None),
                duration_ms=(time.perf_counter() - started) * 1000,
                variables=ec.variables,
            )
        )


@strawberry.type(
    name="AuditEvent", description="One decision of the API: who asked what, and what it answered."
)
class AuditEventType:
    id: strawberry.ID
    at: datetime
    username: str
    roles: list[str]
    kind: str = strawberry.field(description="graphql or login.")
    operation: str | None
    fields: list[str] = strawberry.field(description="The top-level fields asked for.")
    decision: str = strawberry.field(
        description="allowed, denied (role), rejected (invalid or over a limit), "
        "rate_limited, error (internal) or failed (login)."
    )
    detail: str | None
    correlation_id: str | None
    duration_ms: float | None
    variables: str | None = strawberry.field(description="JSON, secrets redacted, truncated.")


@strawberry.type
class AuditEventEdge:
    cursor: str
    node: AuditEventType


@strawberry.type
class AuditEventConnection:
    edges: list[AuditEventEdge]
    page_info: PageInfo


def _cursor(e: AuditEvent) -> str:
    return base64.urlsafe_b64encode(f"{e.at.isoformat()}|{e.id}".encode()).decode()


def _uncursor(cursor: str | None) -> tuple[datetime, str] | None:
    if cursor is None:
        return None
    try:
        at, event_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), event_id
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"malformed cursor {cursor!r}") from e


@strawberry.type
class AuditQuery:
    @strawberry.field(
        extensions=requires(Role.ADMIN),
        description="The audit log, newest first (admin only); filters combine with AND.",
    )
    async def audit_events(
        self,
        info: Info[Context, None],
        username: str | None = None,
        decision: str | None = None,
        kind: str | None = None,
        since: datetime | None = None,
        first: Annotated[int, strawberry.argument(description=f"At most {MAX_PAGE}.")] = 50,
        after: str | None = None,
    ) -> AuditEventConnection:
        audit = audit_log_of(info.context)
        if audit is not None:
            await info.context.call(lambda *_: audit.flush())  # the admin sees up to now
        if not 1 <= first <= MAX_PAGE:
            raise InvalidArgument(f"first must be between 1 and {MAX_PAGE}")
        events: list[AuditEvent] = await info.context.call(
            lambda driver, database: read_audit_events(
                driver, database, username=username, decision=decision, kind=kind,
                since=since, before=_uncursor(after), limit=first + 1,
            )
        )  # fmt: skip
        page = events[:first]
        return AuditEventConnection(
            edges=[
                AuditEventEdge(
                    cursor=_cursor(e),
                    node=AuditEventType(
                        id=strawberry.ID(e.id),
                        at=e.at,
                        username=e.username,
                        roles=list(e.roles),
                        kind=e.kind,
                        operation=e.operation,
                        fields=list(e.fields),
                        decision=e.decision,
                        detail=e.detail,
                        correlation_id=e.correlation_id,
                        duration_ms=e.duration_ms,
                        variables=e.variables,
                    ),
                )
                for e in page
            ],
            page_info=PageInfo(
                end_cursor=_cursor(page[-1]) if page else None,
                has_next_page=len(events) > first,
            ),
        )
