"""`chainlens train --workers N --batch-size --fanout`, through the command line: the options
documented in docs/gnn-training.md exist and build that config, and a run with two gloo
workers trains every model of the report and registers a bundle the registry loads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import typer

from chainlens.settings import PROJECT_ROOT
from cli.main import _gnn_config
from gnn.dataset import build_graph
from gnn.labels import truth_as_of
from gnn.registry import load_bundle
from gnn.scoring import predict_task

DOC = PROJECT_ROOT / "docs" / "gnn-training.md"


def test_the_documented_options_exist_and_build_the_documented_config() -> None:
    text = DOC.read_text(encoding="utf-8")
    commands = re.findall(r"^\s+chainlens train(.*)$", text, flags=re.M)
    assert len(commands) >= 3
    # In a process of its own: the CLI configures logging to its stderr, which an in-process
    # runner closes, and every later test's log line would fail on the closed file.
    help_text = subprocess.run(
        [sys.executable, "-m", "cli.main", "train", "--help"], capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "200"}, check=True, cwd=PROJECT_ROOT,
    ).stdout
    for options in commands:
        for option in re.findall(r"--[a-z-]+", options):
            assert option in help_text, option
    full = _gnn_config(None, 1, 0, "15,10")
    assert (full.batch_size, full.workers, full.epochs) == (0, 1, 150)
    assert full.threads == len(os.sched_getaffinity(0))
    assert _gnn_config(None, 2, 0, "15,10", threads=3).threads == 3
    two = _gnn_config(None, 2, 0, "15,10")
    assert (two.batch_size, two.workers, two.epochs) == (1024, 2, 10)
    one = _gnn_config(4, 1, 512, "10,5")
    assert (one.batch_size, one.workers, one.epochs, one.fanout) == (512, 1, 4, (10, 5))
    for bad in ("10", "10,0", "a,b"):
        with pytest.raises(typer.BadParameter):
            _gnn_config(None, 2, 0, bad)


@pytest.mark.slow
def test_train_with_two_workers_registers_a_loadable_bundle(
    worlds: dict[int, Path], tmp_path: Path
) -> None:
    env = {**os.environ, "CHAINLENS_STATE_DIR": str(tmp_path / "state")}
    args = ["train", "--no-report", "--train-seeds", "11", "--test-seeds", "21",
            "--train-enterprises", "300", "--test-enterprises", "300", "--epochs", "2",
            "--workers", "2", "--batch-size", "128", "--fanout", "8,4"]  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "cli.main", *args], env=env,
                          capture_output=True, text=True, timeout=1800)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "registered model" in done.stdout + done.stderr
    bundle = load_bundle(tmp_path / "state")
    gnn = bundle.meta["config"]["gnn"]
    assert (gnn["workers"], gnn["batch_size"], list(gnn["fanout"])) == (2, 128, [8, 4])
    folder = worlds[21]
    graph = build_graph(folder / "data", truth_as_of(folder / "truth"))
    for model in bundle.models.values():
        p = predict_task(model, graph)
        assert p.shape == (graph.n,) and bool(np.isfinite(p).all())
