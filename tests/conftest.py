"""Fixtures shared by the whole suite.

Strategy: one real Neo4j per test session (see ``tests/neo4j_test_server.py``), started on
demand and reused when already running. Tests that write take the ``db`` fixture, which
deletes every node first, and build the smallest graph that shows the behaviour. The server
is stopped at the end of the session when this session started it, unless
``CHAINLENS_TEST_KEEP_NEO4J=1`` (handy while developing).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from neo4j import Driver

from chainlens.settings import Settings
from finance.products import factory as product_versions
from graph.driver import create_driver, wait_until_answers
from graph.maintenance import clear_database
from graph.schema import apply_schema
from tests.neo4j_test_server import slot_server, slot_settings


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    settings = slot_settings()
    server = slot_server()
    started = server.start() if server is not None else False
    try:
        yield settings
    finally:
        if server is not None and started and os.environ.get("CHAINLENS_TEST_KEEP_NEO4J") != "1":
            server.stop()


@pytest.fixture(scope="session")
def database(neo4j_settings: Settings) -> str:
    return neo4j_settings.neo4j_database


@pytest.fixture(scope="session")
def driver(neo4j_settings: Settings, database: str) -> Iterator[Driver]:
    drv = create_driver(neo4j_settings)
    wait_until_answers(drv, database)
    apply_schema(drv, database)
    try:
        yield drv
    finally:
        drv.close()


@pytest.fixture
def db(driver: Driver, database: str) -> Driver:
    clear_database(driver, database)
    product_versions.clear_cache()  # the product versions it read are gone with the graph
    return driver
