"""The checks shared by every versioned definition with a maker-checker life cycle (rule sets
in `decisions.lifecycle`, products in `finance.products.factory`): a version is published by
someone other than its author, in force from an effective time that is not in the past.

Each returns the problem in plain words, or None; the caller raises its own package's error.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

# A published version takes effect no earlier than now (less this much clock skew): what was
# already decided stays that of the version that decided it.
PAST_TOLERANCE = timedelta(seconds=5)


def content_hash(content: str) -> str:
    """The SHA-256 of a version's content, hex: equal contents, equal hashes."""
    return hashlib.sha256(content.encode()).hexdigest()


def effective_problem(at: datetime, now: datetime) -> str | None:
    """Why ``at`` cannot be a version's effective time (no time zone, in the past), or None."""
    if at.tzinfo is None:
        return "the effective time needs a time zone"
    if at < now - PAST_TOLERANCE:
        return f"the effective time {at.isoformat()} is in the past"
    return None


def checker_problem(author: str, checker: str, what: str, action: str = "publish it") -> str | None:
    """Maker-checker: the author of ``what`` may not do ``action`` to it."""
    if author == checker:
        return f"{checker} drafted {what} and cannot {action}"
    return None
