"""The Neo4j server the test suite runs against.

Each test slot (``CHAINLENS_TEST_SLOT``, default 0) is its own managed server with its own
state folder and ports, so that parallel runs never wipe each other's data. With
``NEO4J_URI`` set, the suite uses that server instead and starts nothing.

    python -m tests.neo4j_test_server start|stop|status
"""

from __future__ import annotations

import os
import sys

from chainlens.settings import PROJECT_ROOT, Environment, Settings
from graph.server import ManagedNeo4j


def slot_number() -> int:
    return int(os.environ.get("CHAINLENS_TEST_SLOT", "0"))


def slot_settings() -> Settings:
    # The API's read cache is off: tests write the graph directly between requests, as
    # another process would, and expect the next request to see it (within the cache's TTL
    # it would not). tests/api/test_read_cache.py turns it on to test its invalidation.
    if os.environ.get("NEO4J_URI"):
        return Settings(environment=Environment.TEST, read_cache_ttl_s=0)
    slot = slot_number()
    return Settings(
        environment=Environment.TEST,
        state_dir=PROJECT_ROOT / ".chainlens" / f"test-slot-{slot}",
        neo4j_bolt_port=7700 + 10 * slot,
        neo4j_http_port=7701 + 10 * slot,
        neo4j_heap="768m",
        neo4j_pagecache="256m",
        read_cache_ttl_s=0,
    )


def slot_server() -> ManagedNeo4j | None:
    settings = slot_settings()
    return ManagedNeo4j(settings) if settings.managed_neo4j else None


def main(argv: list[str]) -> int:
    server = slot_server()
    if server is None:
        print("NEO4J_URI is set: the suite uses that server")
        return 0
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        server.start()
    elif command == "stop":
        server.stop()
    print(server.status().describe())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
