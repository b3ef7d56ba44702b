"""The root error of the decisions package; the API maps it to HTTP in one place."""

from __future__ import annotations


class DecisionsError(Exception):
    """A rule-set operation that cannot proceed; the message says why in plain words."""

    http_status = 400


class RuleSetInvalid(DecisionsError):
    """A rule set that cannot be stored or published: bad JSON, an unknown indicator, an
    expression the engine does not compile, or an evaluation the engine refuses. Every
    problem found is listed in ``problems``."""

    http_status = 422

    def __init__(self, problems: list[str]) -> None:
        super().__init__("the rule set is refused: " + "; ".join(problems))
        self.problems = problems


class NotFound(DecisionsError):
    http_status = 404


class Forbidden(DecisionsError):
    """Maker-checker: the author of a rule set cannot publish it."""

    http_status = 403


class InvalidState(DecisionsError):
    """A life-cycle step that the rule set's status does not allow."""

    http_status = 409


class DisbursementRefused(DecisionsError):
    """The disbursement rule set in force declines to pay out a financing now."""

    http_status = 409


class AdmissionRefused(DecisionsError):
    """The admission rule set in force declines an enterprise as a borrower, or refers it
    where a grant without a second admin was asked."""

    http_status = 409
