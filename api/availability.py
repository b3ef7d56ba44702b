"""Failing fast while the database is gone.

When a request finds Neo4j unreachable (a lost connection, a refused one), the breaker opens:
from then on every GraphQL request is answered at once with 503 and a Retry-After, instead of
each one waiting on a dead server, or on one that is starting and accepts connections long
before it answers. One background probe per process (`RETURN 1`, every half second) closes the
breaker as soon as the database answers again, so the API recovers without a restart.
"""

from __future__ import annotations

import threading
import time

from neo4j import Driver
from neo4j.exceptions import (
    ConnectionAcquisitionTimeoutError,
    ServiceUnavailable,
    SessionExpired,
)

from chainlens.logs import get_logger
from graph.errors import DatabaseUnavailable

log = get_logger(__name__)

# No connection within the API's acquisition timeout counts too: a server that is starting
# accepts connections and leaves their HELLO unanswered until it is ready.
UNREACHABLE = (
    ServiceUnavailable, SessionExpired, DatabaseUnavailable, ConnectionAcquisitionTimeoutError,
)  # fmt: skip
RETRY_AFTER_S = 2


def unreachable(error: BaseException) -> bool:
    """True for the errors that mean the database cannot be reached (not a bad query)."""
    return isinstance(error, UNREACHABLE) or isinstance(error.__cause__, UNREACHABLE)


class DatabaseBreaker:
    def __init__(self, driver: Driver, database: str, probe_every_s: float = 0.5) -> None:
        self.driver, self.database, self.probe_every_s = driver, database, probe_every_s
        self._open = False
        self._lock = threading.Lock()

    @property
    def is_open(self) -> bool:
        return self._open

    def check(self) -> None:
        """Raise DatabaseUnavailable while the breaker is open."""
        if self._open:
            raise DatabaseUnavailable(
                f"the database cannot be reached; retry in {RETRY_AFTER_S} s"
            )

    def trip(self, error: BaseException) -> None:
        """Open the breaker (once) and start the probe that will close it."""
        with self._lock:
            if self._open:
                return
            self._open = True
        log.warning("database.unreachable", error=repr(error))
        threading.Thread(target=self._probe, name="db-breaker-probe", daemon=True).start()

    def _probe(self) -> None:
        started = time.monotonic()
        while True:
            time.sleep(self.probe_every_s)
            try:
                self.driver.execute_query("RETURN 1", database_=self.database)
            except Exception:  # still gone (or starting): keep probing
                continue
            with self._lock:
                self._open = False
            log.info("database.reachable_again", after_s=round(time.monotonic() - started, 1))
            return
