"""The root error of the finance package; the API maps it to HTTP in one place."""

from __future__ import annotations


class FinanceError(Exception):
    """A finance operation that cannot proceed; the message says why in plain words."""

    http_status = 400


class NotFound(FinanceError):
    http_status = 404


class LedgerRejected(FinanceError):
    """A transfer (or a linked chain) failed a ledger check; `results` say which and why."""

    http_status = 409

    def __init__(self, message: str, results: list[object] | None = None) -> None:
        super().__init__(message)
        self.results = results or []


class IdempotencyConflict(FinanceError):
    """An idempotency key was reused with different fields."""

    http_status = 409


class Contention(FinanceError):
    """The operation kept colliding with concurrent ones on the same accounts until its time
    ran out; nothing was written, and the same request (same id) can be sent again."""

    http_status = 409


class LimitExceeded(FinanceError):
    http_status = 409


class InvalidState(FinanceError):
    """A state-machine transition that the current state does not allow."""

    http_status = 409


class AlreadyPledged(FinanceError):
    """An invoice or asset already backs a live financing."""

    http_status = 409


class NotEligible(FinanceError):
    http_status = 422


class Forbidden(FinanceError):
    """Four-eyes and role rules (the maker cannot check)."""

    http_status = 403


class Busy(FinanceError):
    """More ledger writes are waiting than the process takes (`finance.batching`): nothing
    was written, and the same request (same id) can be sent again shortly."""

    http_status = 503
