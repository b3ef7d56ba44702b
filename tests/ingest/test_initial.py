"""`chainlens ingest --initial`: a first load through neo4j-admin's offline importer.

On a small world made by `chainlens generate`: the graph it makes equals, node for node and
relationship for relationship (properties and their types included), the one the
transactional `chainlens ingest` makes from the same folder; killing Neo4j with -9 in the
middle of it and running it again ends in that same graph; a database with data in it, and an
external server, are refused with nothing changed.

These tests stop, import into and restart the suite's managed server (its database is
overwritten, as every test's `db` fixture would clear it anyway).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver, GraphDatabase

from chainlens.settings import PROJECT_ROOT, Settings
from entity_resolution.pipeline import resolve_graph
from graph.maintenance import count_by_label, count_by_relationship
from graph.schema import apply_schema
from graph.server import ManagedNeo4j
from ingest.initial import PREPARED_DIR, STATE_FILE, InitialRefused, initial_load
from ingest.loader import ProgressCallback, ingest_folder
from tests.neo4j_test_server import slot_server

pytestmark = pytest.mark.slow

# Properties that say when a run happened (or which run), not what it loaded.
_RUN_TIME = {"loaded_at", "committed_at", "run_id", "at", "resolved_at", "registered_at",
             "created_at", "updated_at"}  # fmt: skip


def _value(v: Any) -> str:
    return f"{type(v).__name__}:{v}"


def _dump(driver: Driver, database: str) -> tuple[list[str], list[str]]:
    """Every node and relationship with its properties and their types, as sortable text."""
    nodes, _, _ = driver.execute_query(
        "MATCH (n) RETURN labels(n) AS l, properties(n) AS p", database_=database
    )
    rels, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN labels(a) AS la, a.id AS a, type(r) AS t, labels(b) AS lb, "
        "b.id AS b, properties(r) AS p",
        database_=database,
    )

    def props(p: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in p.items() if k not in _RUN_TIME}

    return (
        sorted(json.dumps([r["l"], props(r["p"])], sort_keys=True, default=_value) for r in nodes),
        sorted(
            json.dumps(
                [r["la"], r["a"], r["t"], r["lb"], r["b"], props(r["p"])],
                sort_keys=True,
                default=_value,
            )
            for r in rels
        ),
    )


def _forget_bookmarks(driver: Driver) -> None:
    """The import replaces the store, whose transaction ids start again: the bookmarks the
    suite's driver keeps for `execute_query` name transactions of the old store, and a read
    with them would wait for one the new store may never reach (BookmarkTimeout). A process
    that kept a driver across an initial load needs a new driver too (docs/ingest-format.md).
    """
    driver._query_bookmark_manager = GraphDatabase.bookmark_manager()  # no public reset


@pytest.fixture(autouse=True)
def _new_store_bookmarks(driver: Driver) -> Iterator[None]:
    _forget_bookmarks(driver)
    yield
    _forget_bookmarks(driver)


def _resolve(driver: Driver, database: str, progress: ProgressCallback | None) -> None:
    resolve_graph(driver, database, progress=progress)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A world of 200 firms made by `chainlens generate` (its files in data/)."""
    out = tmp_path_factory.mktemp("initial") / "world"
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "generate", "--out", str(out), "--enterprises",
         "200", "--seed", "11"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return out


def _copy(world: Path, to: Path) -> Path:
    shutil.copytree(world, to)
    return to


@pytest.fixture(scope="module")
def server(neo4j_settings: Settings) -> ManagedNeo4j:
    assert slot_server() is not None, "these tests import into the managed server; unset NEO4J_URI"
    # Recovery after SIGKILL can be slow on a busy machine: allow more than the usual start.
    return ManagedNeo4j(neo4j_settings.model_copy(update={"neo4j_start_timeout_s": 300.0}))


@pytest.fixture
def empty(db: Driver, server: ManagedNeo4j) -> Iterator[Driver]:
    """An empty database and no record of an earlier initial load."""
    (server.home / STATE_FILE).unlink(missing_ok=True)
    yield db
    (server.home / STATE_FILE).unlink(missing_ok=True)


@pytest.fixture(scope="module")
def initial_graph(
    world: Path, neo4j_settings: Settings, driver: Driver, database: str,
    tmp_path_factory: pytest.TempPathFactory, server: ManagedNeo4j,
) -> tuple[list[str], list[str]]:  # fmt: skip
    """The graph an uninterrupted `initial_load` (entity resolution after it) makes."""
    from graph.maintenance import clear_database

    clear_database(driver, database)
    (server.home / STATE_FILE).unlink(missing_ok=True)
    folder = _copy(world, tmp_path_factory.mktemp("initial-run") / "world")
    stages: list[str] = []
    summary = initial_load(
        server.settings, folder, post_load=_resolve,
        progress=lambda stage, done, total: stages.append(stage),
    )  # fmt: skip
    _forget_bookmarks(driver)
    assert not summary.already_loaded and summary.resumed_from is None
    assert summary.ingest.rejected == 0 and summary.ingest.loaded > 1000
    assert {"enterprises", "invoices", "neo4j-admin import", "schema"} <= set(stages)
    assert (folder / "data" / PREPARED_DIR / "prepared.json").exists()
    assert json.loads((server.home / STATE_FILE).read_text())["stage"] == "complete"
    dump = _dump(driver, database)
    (server.home / STATE_FILE).unlink()
    return dump


def test_initial_load_makes_the_graph_the_transactional_ingest_makes(
    initial_graph: tuple[list[str], list[str]], world: Path, empty: Driver, database: str,
    tmp_path: Path,
) -> None:  # fmt: skip
    folder = _copy(world, tmp_path / "world")
    apply_schema(empty, database)
    summary = ingest_folder(empty, database, folder)
    resolve_graph(empty, database)
    assert summary.rejected == 0
    nodes, rels = _dump(empty, database)
    i_nodes, i_rels = initial_graph
    # Counts per label and per relationship type first: the clearest message when they differ.
    labels = Counter(json.loads(n)[0][0] for n in nodes)
    assert Counter(json.loads(n)[0][0] for n in i_nodes) == labels
    types = Counter(json.loads(r)[2] for r in rels)
    assert Counter(json.loads(r)[2] for r in i_rels) == types
    assert labels["Enterprise"] == 200 and types["SUPPLIES"] > 0 and types["RESOLVES_TO"] > 0
    assert labels["IngestBatch"] > 0 and labels["SecurityInterest"] > 0
    # Then every node and relationship with every property (a warehouse's point, money in
    # minor units, dates, a sensor's timestamp, the batch markers).
    assert set(i_nodes) ^ set(nodes) == set()
    assert i_nodes == nodes
    assert set(i_rels) ^ set(rels) == set()
    assert i_rels == rels


def test_transactional_ingest_keeps_working_after_an_initial_load(
    initial_graph: tuple[list[str], list[str]], world: Path, empty: Driver, database: str,
    server: ManagedNeo4j, tmp_path: Path,
) -> None:  # fmt: skip
    folder = _copy(world, tmp_path / "world")
    initial_load(server.settings, folder)
    _forget_bookmarks(empty)
    counts = count_by_label(empty, database)
    again = ingest_folder(empty, database, folder)
    # The import wrote the batch markers a transactional load commits: nothing is rewritten.
    assert sum(f.batches_written for f in again.files) == 0
    assert sum(f.batches_skipped for f in again.files) == counts["IngestBatch"]
    with (folder / "data" / "enterprises.csv").open("a", encoding="utf-8") as f:
        f.write("NEWCO1,新公司有限公司" + "," * 12 + "\r\n")
    more = ingest_folder(empty, database, folder)
    assert more.file("enterprises").batches_written == 1
    assert count_by_label(empty, database)["Enterprise"] == counts["Enterprise"] + 1


# ---- through the CLI ----------------------------------------------------------------------
def _cli_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CHAINLENS_"))}
    env.update({
        "CHAINLENS_ENVIRONMENT": "test", "CHAINLENS_STATE_DIR": str(settings.state_dir),
        "CHAINLENS_NEO4J_BOLT_PORT": str(settings.neo4j_bolt_port),
        "CHAINLENS_NEO4J_HTTP_PORT": str(settings.neo4j_http_port),
        "CHAINLENS_NEO4J_HEAP": settings.neo4j_heap,
        "CHAINLENS_NEO4J_PAGECACHE": settings.neo4j_pagecache,
        "CHAINLENS_NEO4J_START_TIMEOUT_S": "300", "CHAINLENS_LOG_LEVEL": "WARNING",
    })  # fmt: skip
    return env


def _chainlens(env: dict[str, str], *args: str, timeout: float = 900) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", *args], env=env, cwd=PROJECT_ROOT, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _finish(process: subprocess.Popen[str], timeout: float = 900) -> tuple[int, str]:
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def test_kill_9_of_neo4j_during_initial_then_rerun_ends_as_an_uninterrupted_run(
    initial_graph: tuple[list[str], list[str]], world: Path, empty: Driver, database: str,
    server: ManagedNeo4j, tmp_path: Path,
) -> None:  # fmt: skip
    folder = _copy(world, tmp_path / "world")
    env = _cli_env(server.settings)
    state = server.home / STATE_FILE
    first = _chainlens(env, "ingest", "--initial", str(folder))
    try:
        # Wait until the import is done and the server is back, running the post-load steps.
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            stage = json.loads(state.read_text())["stage"] if state.exists() else None
            if stage == "imported" and server.pid() is not None:
                break
            assert first.poll() is None, first.communicate()[0]
            time.sleep(0.05)
        else:
            raise AssertionError("the import did not finish within 600 s")
        pid = server.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        code, out = _finish(first)
    finally:
        if first.poll() is None:
            first.kill()
    assert code != 0, out
    assert json.loads(state.read_text())["stage"] == "imported"
    code, out = _finish(_chainlens(env, "ingest", "--initial", str(folder)))
    _forget_bookmarks(empty)
    assert code == 0, out
    assert "resumed an interrupted run (imported)" in out
    assert "files reused" in out
    assert json.loads(state.read_text())["stage"] == "complete"
    assert _dump(empty, database) == initial_graph


def test_cli_refuses_a_database_with_data_and_an_external_server_changing_nothing(
    world: Path, empty: Driver, database: str, server: ManagedNeo4j, tmp_path: Path,
    neo4j_settings: Settings,
) -> None:  # fmt: skip
    empty.execute_query("CREATE (:Enterprise {id: 'ALREADY-HERE', name: 'x'})", database_=database)
    before = (count_by_label(empty, database), count_by_relationship(empty, database))
    folder = _copy(world, tmp_path / "world")
    env = _cli_env(server.settings)
    code, out = _finish(_chainlens(env, "ingest", "--initial", str(folder)))
    assert code == 2, out
    assert "is not empty" in out and "changed nothing" in out
    assert (count_by_label(empty, database), count_by_relationship(empty, database)) == before
    assert not (server.home / STATE_FILE).exists()
    # An external server: the files are prepared, the neo4j-admin step printed, nothing loaded.
    external = {
        **env,
        "NEO4J_URI": neo4j_settings.effective_neo4j_uri(),
        "NEO4J_PASSWORD": neo4j_settings.effective_neo4j_password().get_secret_value(),
    }
    code, out = _finish(_chainlens(external, "ingest", "--initial", str(folder)))
    assert code == 2, out
    flat = " ".join(out.split())
    assert "neo4j-admin database import full neo4j --overwrite-destination=true" in flat
    assert "loaded nothing" in flat
    assert (count_by_label(empty, database), count_by_relationship(empty, database)) == before
    with pytest.raises(InitialRefused, match="not empty"):
        initial_load(server.settings, folder)
