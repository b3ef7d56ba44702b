"""Fixtures for the security regressions (issue 25): each test sends an attack over HTTP to
the real app, served on a loopback port over the real Neo4j, and asserts the safe outcome.

The shared app and its users come from `tests/api/conftest.py`; a test that needs other
limits (tight login buckets, a fast audit flush) serves an app of its own with
`tests.api.serving.serve`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from neo4j import Driver

from chainlens.settings import Settings
from tests.api.conftest import api_settings, api_url, client, login  # noqa: F401
from tests.api.serving import serve


@pytest.fixture
def own_app(api_settings: Settings, driver: Driver) -> Iterator[Any]:  # noqa: F811
    """``own_app(**settings)``: serve an app with these settings changed; yields a client."""
    stack: list[Any] = []

    def start(**changes: Any) -> httpx.Client:
        settings = api_settings.model_copy(update={"audit_flush_s": 0.2, **changes})
        manager = serve(settings, driver)
        url = manager.__enter__()
        stack.append(manager)
        http = httpx.Client(base_url=url, timeout=60)
        stack.append(http)
        return http

    try:
        yield start
    finally:
        for item in reversed(stack):
            item.__exit__(None, None, None)


def raw_graphql(query: str, variables_json: str) -> bytes:
    """A GraphQL body with the variables written as raw JSON text (escapes kept as sent)."""
    import json

    return ('{"query": ' + json.dumps(query) + ', "variables": ' + variables_json + "}").encode()
