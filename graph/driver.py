"""Creating the one Neo4j driver of a process.

The driver is created once by an entry point (CLI command, API lifespan, test session) and
passed to whatever needs it; nothing else opens connections.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import ServiceUnavailable, SessionExpired
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from chainlens.settings import Settings


def create_driver(
    settings: Settings, retry_s: float | None = None, acquire_s: float | None = None
) -> Driver:
    """A driver for the configured Neo4j (external URI, else the managed server); managed
    transactions are retried for ``retry_s`` (default ``neo4j_retry_s``) on transient
    failures, a lost server included; getting a connection (from the pool, or a new one up
    to its HELLO) waits at most ``acquire_s`` (default ``neo4j_acquire_timeout_s``)."""
    return GraphDatabase.driver(
        settings.effective_neo4j_uri(),
        auth=(settings.neo4j_user, settings.effective_neo4j_password().get_secret_value()),
        max_connection_pool_size=100,
        connection_acquisition_timeout=(
            settings.neo4j_acquire_timeout_s if acquire_s is None else acquire_s
        ),
        connection_timeout=settings.neo4j_connect_timeout_s,
        max_transaction_retry_time=settings.neo4j_retry_s if retry_s is None else retry_s,
    )


@contextmanager
def open_driver(settings: Settings) -> Iterator[Driver]:
    driver = create_driver(settings)
    try:
        yield driver
    finally:
        driver.close()


@retry(
    retry=retry_if_exception_type((ServiceUnavailable, SessionExpired, OSError)),
    wait=wait_exponential(multiplier=0.2, max=2.0),
    stop=stop_after_delay(60),
    reraise=True,
)
def wait_until_answers(driver: Driver, database: str) -> None:
    """Block until ``RETURN 1`` runs on ``database`` (the database can lag Bolt at start)."""
    driver.verify_connectivity()
    driver.execute_query("RETURN 1", database_=database)
