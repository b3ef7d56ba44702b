"""Journeys: the product used through its front door.

One world per package: `chainlens generate` writes it, `chainlens ingest` loads it (both run
as the CLI, in a subprocess), users are made with `chainlens users add`, and every step of a
journey is an HTTP request to the real API served over the same Neo4j. No test here calls a
domain function or writes Cypher; the generated files are read only to pick subjects, as a
bank's analyst would read their own extract.

Each test also holds Neo4j to the schema contract: any "label / relationship type / property
key does not exist" notification (GQL status 01N50, 01N51, 01N52) raised while it ran fails
it. The model's vocabulary is registered by `chainlens db init`, so such a notification means
that a query named something the model does not declare.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Browser, Page
from websockets.sync.client import connect

from chainlens.settings import Settings
from graph.maintenance import clear_database
from tests.api.conftest import api_settings, api_url  # noqa: F401  (the served app)
from tests.notifications import unknown_names
from tests.web.conftest import launch, open_page

PASSWORD = "Journey-Passw0rd-for-tests-2026"
ENTERPRISES = 600
SEED = 7
USERS: dict[str, tuple[str, ...]] = {
    "ada": ("admin",),
    "rita": ("relationship_manager",),
    "otto": ("credit_officer",),
    "olga": ("credit_officer",),
    "anna": ("analyst",),
    "matcher": ("service",),
}


def cli(env: dict[str, str], *args: str, stdin: str = "", timeout: float = 600) -> str:
    """Run `chainlens ARGS`; returns stdout, fails the test with stderr on a non-zero exit."""
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", *args], env=env, input=stdin, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip
    assert done.returncode == 0, f"chainlens {' '.join(args)}: {done.stderr}{done.stdout}"
    return done.stdout


@dataclass
class World:
    """A generated, ingested world: its folder and its files, read as rows."""

    folder: Path
    _rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def rows(self, name: str) -> list[dict[str, str]]:
        if name not in self._rows:
            with (self.folder / "data" / f"{name}.csv").open(encoding="utf-8") as f:
                self._rows[name] = list(csv.DictReader(f))
        return self._rows[name]


@pytest.fixture(scope="package")
def cli_env(neo4j_settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings.effective_neo4j_uri(),
        "NEO4J_PASSWORD": neo4j_settings.effective_neo4j_password().get_secret_value(),
    }
    env.pop("CHAINLENS_NEW_PASSWORD", None)
    return env


@pytest.fixture(scope="package")
def world(
    driver: Driver, database: str, cli_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> World:  # fmt: skip
    folder = tmp_path_factory.mktemp("journey-world")
    cli(cli_env, "generate", "--enterprises", str(ENTERPRISES), "--seed", str(SEED),
        "--out", str(folder))  # fmt: skip
    clear_database(driver, database)
    cli(cli_env, "db", "init")
    cli(cli_env, "ingest", str(folder))
    for name, roles in USERS.items():
        role_args = [a for r in roles for a in ("--role", r)]
        cli(cli_env, "users", "add", name, *role_args, stdin=f"{PASSWORD}\n{PASSWORD}\n")
    return World(folder)


class GraphQLError(AssertionError):
    def __init__(self, errors: list[dict[str, Any]], status: int) -> None:
        super().__init__(f"HTTP {status}: {errors}")
        self.errors = errors
        self.status = status

    @property
    def code(self) -> str:
        return str(self.errors[0].get("extensions", {}).get("code"))

    @property
    def message(self) -> str:
        return str(self.errors[0]["message"])


class Api:
    """GraphQL and REST over HTTP as a named user."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, user: str) -> str:
        if user not in self._tokens:
            r = self.client.post("/auth/token", json={"username": user, "password": PASSWORD})
            assert r.status_code == 200, r.text
            self._tokens[user] = r.json()["access_token"]
        return self._tokens[user]

    def raw(self, user: str, query: str, **variables: Any) -> httpx.Response:
        return self.client.post(
            "/graphql", json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.token(user)}"},
        )  # fmt: skip

    def gql(self, user: str, query: str, **variables: Any) -> dict[str, Any]:
        """The data of a query that must succeed."""
        r = self.raw(user, query, **variables)
        body = r.json()
        if body.get("errors") or r.status_code != 200:
            raise GraphQLError(body.get("errors") or [{"message": r.text}], r.status_code)
        data: dict[str, Any] = body["data"]
        return data

    @contextlib.contextmanager
    def subscribe(
        self, user: str, query: str, **variables: Any
    ) -> Iterator[Callable[[], dict[str, Any]]]:
        """A graphql-transport-ws subscription as `user`; yields `next()`, which waits for
        the next pushed result and returns its data."""
        url = str(self.client.base_url).replace("http://", "ws://") + "/graphql"
        with connect(url, subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
                     open_timeout=10) as ws:  # fmt: skip
            auth = {"Authorization": f"Bearer {self.token(user)}"}
            ws.send(json.dumps({"type": "connection_init", "payload": auth}))
            assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
            ws.send(json.dumps({"type": "subscribe", "id": "1",
                                "payload": {"query": query, "variables": variables}}))  # fmt: skip
            time.sleep(1.5)  # the server's poller starts from "now"

            def next_result() -> dict[str, Any]:
                message = json.loads(ws.recv(timeout=20))
                assert message["type"] == "next", message
                data: dict[str, Any] = message["payload"]["data"]
                return data

            yield next_result
            ws.send(json.dumps({"type": "complete", "id": "1"}))

    def error(self, user: str, query: str, **variables: Any) -> GraphQLError:
        """The error of a request that must fail."""
        try:
            self.gql(user, query, **variables)
        except GraphQLError as e:
            return e
        raise AssertionError(f"expected an error from {query}")


@pytest.fixture(scope="package")
def api(api_url: str, world: World) -> Iterator[Api]:  # noqa: F811
    with httpx.Client(base_url=api_url, timeout=60) as client:
        yield Api(client)


@pytest.fixture(autouse=True)
def no_unknown_names() -> Iterator[None]:
    """Fail a journey whose queries named a label, type or property the model lacks."""
    with unknown_names() as found:
        yield
    assert found.seen == [], "\n".join(found.seen)


# ---- a browser for the journeys that use the pages (closed when the package ends) ----------
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    yield from launch()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from open_page(browser)
