"""Crash safety: SIGKILL the intake process mid-stream; after a restart every acknowledged
reading is stored exactly once, and so is every reading published."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from sensors.broker import LocalBroker
from sensors.simulator import build_scenario, publish
from sensors.store import load_table


def start_intake(
    broker: LocalBroker,
    data_dir: Path,
    registry: Path,
    ack_log: Path,
    idle_exit_s: float | None = None,
) -> subprocess.Popen[str]:
    cmd = [
        sys.executable,
        "-m",
        "sensors.intake",
        "--host",
        broker.host,
        "--port",
        str(broker.port),
        "--data-dir",
        str(data_dir),
        "--registry-file",
        str(registry),
        "--client-id",
        "crash-test-intake",
        "--ack-log",
        str(ack_log),
        "--flush-ms",
        "20",
    ]
    if idle_exit_s is not None:
        cmd += ["--idle-exit-s", str(idle_exit_s)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def acked(ack_log: Path) -> list[tuple[str, int]]:
    keys = []
    for line in ack_log.read_text().splitlines():
        sensor, seq = line.split("\t")
        keys.append((sensor, int(seq)))
    return keys


def stored(data_dir: Path) -> Counter[tuple[str, int]]:
    t = load_table(data_dir)
    return Counter(zip(t["sensor_id"].to_pylist(), t["seq"].to_pylist(), strict=True))


@pytest.mark.slow
def test_sigkill_mid_stream_loses_nothing_acknowledged_and_stores_nothing_twice(
    broker: LocalBroker, tmp_path: Path
) -> None:
    scenario = build_scenario(seed=3, days=1, herds=1)  # about 9 000 readings
    data_dir, registry, ack_log = tmp_path / "store", tmp_path / "registry.json", tmp_path / "acks"
    registry.write_text(scenario.registry.to_json())
    ack_log.touch()
    n = len(scenario.readings)

    proc = start_intake(broker, data_dir, registry, ack_log)
    publisher = threading.Thread(target=publish, args=(scenario, broker.host, broker.port))
    publisher.start()
    deadline = time.monotonic() + 120
    while len(acked(ack_log)) < n // 4:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = acked(ack_log)
    assert 0 < len(before) < n, "the kill must land mid-stream"

    # What the dead process acknowledged is on disk, once (torn tail frames are unacked).
    on_disk = stored(data_dir)
    assert all(on_disk[k] == 1 for k in before)
    assert max(on_disk.values()) == 1
    publisher.join(timeout=120)

    # Restart: the broker redelivers the unacknowledged rest of the persistent session.
    proc = start_intake(broker, data_dir, registry, ack_log, idle_exit_s=3.0)
    assert proc.wait(timeout=180) == 0
    after = stored(data_dir)
    every = {(s, p["seq"]) for s, p in scenario.readings}
    assert set(after) == every
    assert max(after.values()) == 1
    assert all(after[k] == 1 for k in acked(ack_log))
    print(f"killed after {len(before)} of {n} acknowledged; after restart {sum(after.values())}")
