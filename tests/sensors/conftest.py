"""Fixtures for the sensors tests.

One real Mosquitto per test session (Debian's `mosquitto` package), on a free loopback port
with a generated config in a temporary folder, stopped at the end. Tests that need a clean
broker session use their own MQTT client ids. Scenarios come from the deterministic
simulator; the ones several tests share are built once per session.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sensors.broker import LocalBroker
from sensors.simulator import Scenario, build_scenario


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBroker]:
    b = LocalBroker(tmp_path_factory.mktemp("mosquitto")).start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    """Three days, incidents planted on the last one."""
    return build_scenario(seed=7, days=3)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "sensors"
