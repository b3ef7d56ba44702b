"""The managed server's life cycle on a second, private instance: start is idempotent, data
persists across a clean restart, status tells the truth after a crash, the password is kept
0600 and never logged. Driven through the `chainlens` CLI, as a user would."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from chainlens.settings import Settings
from tests.neo4j_test_server import slot_server


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting for a parent that exited to reap it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_start_stop_restart_crash(neo4j_settings: Settings, tmp_path: Path) -> None:
    shared = slot_server()
    if shared is None:
        pytest.fail("the life-cycle test needs the managed server (unset NEO4J_URI)")
    state = tmp_path / "state"
    bolt, http = _free_port(), _free_port()
    env = {
        **os.environ,
        "CHAINLENS_STATE_DIR": str(state),
        "CHAINLENS_NEO4J_BOLT_PORT": str(bolt),
        "CHAINLENS_NEO4J_HTTP_PORT": str(http),
        "CHAINLENS_NEO4J_HEAP": "512m",
        "CHAINLENS_NEO4J_PAGECACHE": "128m",
    }
    env.pop("NEO4J_URI", None)
    # Reuse the jars of the suite's server (hard links) instead of fetching them again.
    home = state / "neo4j"
    home.mkdir(parents=True)
    shutil.copytree(shared.lib, home / "lib", copy_function=os.link)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args], env=env, capture_output=True, text=True,
            timeout=180,
        )  # fmt: skip

    status = cli("neo4j", "status")
    assert status.returncode == 3 and "stopped" in status.stderr

    first = cli("neo4j", "start")
    assert first.returncode == 0, first.stderr
    assert "Neo4j started" in first.stderr
    second = cli("neo4j", "start")
    assert "already running" in second.stderr
    pid = int((home / "run" / "neo4j.pid").read_text())

    password_file = state / "neo4j-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    for log in (home / "logs").iterdir():
        assert password not in log.read_text(errors="replace"), log
    assert password not in first.stderr + first.stdout

    uri = f"bolt://127.0.0.1:{bolt}"
    with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        driver.execute_query("CREATE (:Enterprise {id: 'persisted'})")

    stopped = cli("neo4j", "stop")
    assert stopped.returncode == 0 and "stopped" in stopped.stderr
    assert not _alive(pid)
    assert cli("neo4j", "status").returncode == 3

    assert cli("neo4j", "start").returncode == 0
    with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (e:Enterprise {id: 'persisted'}) RETURN count(e) AS n"
        )
        assert records[0]["n"] == 1

    # A crash: the pid file stays behind, status must not believe it.
    pid = int((home / "run" / "neo4j.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    crashed = cli("neo4j", "status")
    assert crashed.returncode == 3 and "stopped" in crashed.stderr
    assert cli("neo4j", "stop").returncode == 0  # clears the stale pid file
    assert not (home / "run" / "neo4j.pid").exists()


def test_a_password_starting_with_a_dash_is_set(tmp_path: Path) -> None:
    """A generated password starts with "-" one time in 64 (token_urlsafe); the admin
    command once read it as an unknown option and the first start failed."""
    from pydantic import SecretStr

    from graph.server import ManagedNeo4j

    shared = slot_server()
    if shared is None:
        pytest.fail("this test needs the managed server's jars (unset NEO4J_URI)")
    settings = Settings(state_dir=tmp_path / "state", NEO4J_PASSWORD=SecretStr("-PB-dashed-1"))
    server = ManagedNeo4j(settings)
    server.home.mkdir(parents=True)
    shutil.copytree(shared.lib, server.lib, copy_function=os.link)
    server.write_config()
    server._ensure_password()
    assert (server.data_dir / "dbms" / "auth.ini").exists()
