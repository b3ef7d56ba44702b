"""The demo broker: a daemon started and stopped by separate commands."""

from __future__ import annotations

from pathlib import Path

from sensors.broker import daemon_pid, free_port, start_daemon, stop_daemon
from sensors.mqtt import FastClient, connect


def test_demo_broker_starts_once_answers_and_stops(tmp_path: Path) -> None:
    port = free_port()
    pid = start_daemon(tmp_path, port)
    try:
        assert start_daemon(tmp_path, port) == pid  # already running: left alone
        client = FastClient("broker-check")
        connect(client, "127.0.0.1", port)
        client.disconnect()
    finally:
        assert stop_daemon(tmp_path)
    assert daemon_pid(tmp_path) is None
    assert not stop_daemon(tmp_path)
