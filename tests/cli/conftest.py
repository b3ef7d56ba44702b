"""CLI fixtures: run `chainlens` in a subprocess, pointed at the suite's Neo4j."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from chainlens.settings import Settings


@pytest.fixture
def cli_env(neo4j_settings: Settings) -> dict[str, str]:
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings.effective_neo4j_uri(),
        "NEO4J_PASSWORD": neo4j_settings.effective_neo4j_password().get_secret_value(),
    }
    env.pop("CHAINLENS_NEW_PASSWORD", None)
    return env


def run(
    env: dict[str, str], *args: str, stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
