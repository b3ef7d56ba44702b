"""Error handling for GraphQL in one place: domain errors keep their message and get a code;
anything else is logged with the request's correlation id and, outside development, masked."""

from __future__ import annotations

from collections.abc import Iterator

from graphql import GraphQLError
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from api.errors import error_code_of, http_status_of, is_domain_error
from chainlens.logs import get_logger
from chainlens.settings import Environment
from graph.errors import DatabaseUnavailable

log = get_logger(__name__)


class DomainErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if result is None or not result.errors:
            return
        context = self.execution_context.context
        masked: list[GraphQLError] = []
        unavailable = False
        for error in result.errors:
            original = error.original_error
            if isinstance(original, ServiceUnavailable | SessionExpired | DatabaseUnavailable):
                # The database is gone (the driver gave up after its retry time): 503 at
                # once, in words, rather than an internal error.
                unavailable = True
                masked.append(GraphQLError(
                    str(original) if isinstance(original, DatabaseUnavailable)
                    else "the database cannot be reached; try again shortly",
                    nodes=error.nodes, path=error.path, extensions={"code": "UNAVAILABLE"},
                ))  # fmt: skip
                continue
            # No original error: a validation error; a GraphQLError: raised on purpose (a
            # permission check); both are the client's and keep their message.
            if original is None or isinstance(original, GraphQLError) or is_domain_error(original):
                if original is not None and not isinstance(original, GraphQLError):
                    error.extensions = {**(error.extensions or {}), "code": error_code_of(original)}
                    # A refusal that says "not now" (finance.errors.Busy): 503 with Retry-After.
                    unavailable = unavailable or http_status_of(original) == 503
                masked.append(error)
                continue
            correlation_id = getattr(context, "correlation_id", "-")
            log.error(
                "graphql.internal_error",
                correlation_id=correlation_id,
                path=error.path,
                error=repr(original),
            )
            if getattr(context, "settings", None) is not None and (
                context.settings.environment is Environment.DEVELOPMENT
            ):
                masked.append(error)
                continue
            masked.append(
                GraphQLError(
                    f"internal error (correlation id {correlation_id})",
                    nodes=error.nodes,
                    path=error.path,
                    extensions={"code": "INTERNAL", "correlation_id": correlation_id},
                )
            )
        result.errors = masked
        response = getattr(context, "response", None)
        if unavailable and response is not None:
            response.status_code = 503
            response.headers["Retry-After"] = "5"


class ReadCacheInvalidation(SchemaExtension):
    """A mutation empties the app's read cache (`graph/cache.py`) when its operation ends,
    before its answer is sent, whether it succeeded or not (a mutation that failed half-way
    may have committed a part): the next read sees what it wrote."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            ec = self.execution_context
            cache = getattr(ec.context, "read_cache", None)
            if cache is not None and _is_mutation(ec):
                cache.invalidate()


def _is_mutation(ec: ExecutionContext) -> bool:
    try:
        return ec.operation_type is OperationType.MUTATION
    except Exception:  # a document that did not parse or names no operation: nothing ran
        return False
