"""The one place where domain errors become HTTP statuses and GraphQL error codes.

Every package has one root error carrying an ``http_status``; anything else is an internal
error, masked outside development and logged with a correlation id.
"""

from __future__ import annotations

from api.security import AuthError
from decisions.errors import DecisionsError
from documents.errors import DocumentsError
from entity_resolution.errors import EntityResolutionError
from finance.errors import FinanceError
from gnn.errors import GnnError
from graph.errors import GraphError
from ingest.errors import IngestError
from sensors.errors import SensorsError

# The root error of every package: its message is for the client, its `http_status` the answer.
DOMAIN_ERRORS: tuple[type[Exception], ...] = (
    GraphError,
    AuthError,
    IngestError,
    EntityResolutionError,
    FinanceError,
    GnnError,
    SensorsError,
    DecisionsError,
    DocumentsError,
)

_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE",
    429: "RATE_LIMITED",
    503: "UNAVAILABLE",
    504: "TIMEOUT",
}


def is_domain_error(error: BaseException | None) -> bool:
    return isinstance(error, DOMAIN_ERRORS)


def http_status_of(error: BaseException) -> int:
    status = getattr(error, "http_status", 500)
    return status if isinstance(status, int) else 500


def error_code_of(error: BaseException) -> str:
    """The error's own ``error_code`` when it names one (a refusal a client acts on, such as
    CONTRACT_NOT_SIGNED), else the code of its HTTP status."""
    own = getattr(error, "error_code", None)
    if isinstance(own, str) and own:
        return own
    return _CODES.get(http_status_of(error), "INTERNAL")
