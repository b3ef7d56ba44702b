"""Catching Neo4j's "does not exist" notifications (GQL status 01N50 label, 01N51
relationship type, 01N52 property key), which the driver logs on `neo4j.notifications`."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

UNKNOWN_NAME = ("01N50", "01N51", "01N52")


class UnknownNames(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if any(f"gql_status='{code}'" in text for code in UNKNOWN_NAME):
            self.seen.append(text[:600])


@contextmanager
def unknown_names() -> Iterator[UnknownNames]:
    """Collect the unknown-name notifications raised in the block."""
    handler = UnknownNames()
    log = logging.getLogger("neo4j.notifications")
    log.addHandler(handler)
    try:
        yield handler
    finally:
        log.removeHandler(handler)
