"""The one place where domain errors become HTTP statuses and GraphQL error codes.

Every package has one root error carrying an ``http_status``; anything else is an internal
error, masked outside development and logged with a correlation id.
"""

from __future__ import annotations

import importlib

from api.security import AuthError
from graph.errors import GraphError


def _domain_roots() -> tuple[type[Exception], ...]:
    roots: list[type[Exception]] = [GraphError, AuthError]
    # Packages that land later register here by their root error's import path.
    for module, name in (
        ("ingest.errors", "IngestError"),
        ("entity_resolution.errors", "EntityResolutionError"),
        ("finance.errors", "FinanceError"),
        ("gnn.errors", "RiskError"),
        ("sensors.errors", "SensorsError"),
    ):
        try:
            roots.append(getattr(importlib.import_module(module), name))
        except (ImportError, AttributeError):
            continue
    return tuple(roots)


DOMAIN_ERRORS = _domain_roots()

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    422: "UNPROCESSABLE",
    429: "RATE_LIMITED",
}


def is_domain_error(error: BaseException | None) -> bool:
    return isinstance(error, DOMAIN_ERRORS)


def http_status_of(error: BaseException) -> int:
    status = getattr(error, "http_status", 500)
    return status if isinstance(status, int) else 500


def error_code_of(error: BaseException) -> str:
    return _CODES.get(http_status_of(error), "INTERNAL")
