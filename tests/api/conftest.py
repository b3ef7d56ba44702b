"""API fixtures: the real app served by uvicorn on a loopback port, over the real Neo4j.

Tests talk HTTP to it with httpx, as a client would. Users are created through the same
function as `chainlens users add`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from neo4j import Driver

from api.app import create_app
from api.security import Role, add_user
from chainlens.settings import Environment, Settings

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def api_settings(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return neo4j_settings.model_copy(
        update={
            "environment": Environment.TEST,
            "jwt_secret": None,
            "state_dir": neo4j_settings.state_dir,
            # Load-shaped tests (200 simultaneous drawdowns) must not meet the per-user rate
            # limit; tests/api/test_limits.py checks the limit on an app of its own.
            "rate_limit_per_minute": 100_000,
            "rate_limit_burst": 100_000,
            "graphql_cost_per_minute": 100_000_000,
            "graphql_cost_burst": 100_000_000,
        }
    )


@pytest.fixture(scope="session")
def api_url(api_settings: Settings, driver: Driver) -> Iterator[str]:
    port = free_port()
    app = create_app(api_settings, driver=driver)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(api_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_url, timeout=30) as c:
        yield c


@pytest.fixture
def login(db: Driver, database: str, client: httpx.Client) -> Callable[..., dict[str, str]]:
    """Create a user with the given roles and return the Authorization header of its token."""

    def make(*roles: Role, username: str | None = None) -> dict[str, str]:
        name = username or "user-" + "-".join(r.value for r in roles)
        add_user(db, database, name, PASSWORD, list(roles))
        response = client.post("/auth/token", json={"username": name, "password": PASSWORD})
        response.raise_for_status()
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return make


def gql(
    client: httpx.Client, headers: dict[str, str], query: str, **variables: object
) -> httpx.Response:
    return client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
