"""Helpers for API tests that need an app of their own (other limits, a counting driver):
serve it with uvicorn on a loopback port, as `tests/api/conftest.py` does for the shared one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from neo4j import Driver

from api.app import create_app
from api.security import Role, add_user
from chainlens.settings import Settings
from tests.api.conftest import PASSWORD, free_port


@contextmanager
def serve_app(settings: Settings, driver: Any) -> Iterator[tuple[str, FastAPI]]:
    """Serve ``create_app(settings, driver)`` on a free port; yields the base URL and the
    app (whose state a test may read)."""
    app = create_app(settings, driver=driver)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}", app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def serve(settings: Settings, driver: Any) -> Iterator[str]:
    """`serve_app`, yielding the base URL only."""
    with serve_app(settings, driver) as (url, _):
        yield url


def token_headers(
    client: httpx.Client, driver: Driver, database: str, username: str, *roles: Role
) -> dict[str, str]:
    """Create ``username`` with ``roles`` and return its bearer header."""
    add_user(driver, database, username, PASSWORD, list(roles))
    response = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class CountingDriver:
    """Delegates to a real driver and counts the round trips a request makes: every
    `execute_query` and every transaction function run in a session."""

    def __init__(self, driver: Driver) -> None:
        self._driver = driver
        self.calls = 0
        self._lock = threading.Lock()

    def _count(self) -> None:
        with self._lock:
            self.calls += 1

    def execute_query(self, *args: Any, **kwargs: Any) -> Any:
        self._count()
        return self._driver.execute_query(*args, **kwargs)

    def session(self, *args: Any, **kwargs: Any) -> Any:
        counter = self
        inner = self._driver.session(*args, **kwargs)

        class Session:
            def __enter__(self) -> Session:
                inner.__enter__()
                return self

            def __exit__(self, *exc: Any) -> None:
                inner.__exit__(*exc)

            def execute_read(self, *a: Any, **k: Any) -> Any:
                counter._count()
                return inner.execute_read(*a, **k)

            def execute_write(self, *a: Any, **k: Any) -> Any:
                counter._count()
                return inner.execute_write(*a, **k)

            def run(self, *a: Any, **k: Any) -> Any:
                counter._count()
                return inner.run(*a, **k)

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        return Session()

    def reset(self) -> int:
        with self._lock:
            calls, self.calls = self.calls, 0
        return calls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._driver, name)
