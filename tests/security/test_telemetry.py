"""Telemetry is never acknowledged without being stored (issue 25, finding 2): a reading the
store cannot hold is rejected on its own, the batch's good readings are stored, and a
reading counts as seen only once it is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from neo4j import Driver

from api.security import Role
from sensors.model import AssetInfo, SensorInfo, SensorKind
from sensors.registry import register_collateral, register_sensors
from sensors.store import ReadingStore, query
from tests.api.serving import token_headers

pytestmark = pytest.mark.neo4j


def reading(seq: int, minutes_ago: int = 5, value: float = -18.5) -> dict[str, Any]:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=minutes_ago)
    return {"sensor_id": "TH-S", "ts": at.isoformat(), "kind": "temperature", "value": value,
            "unit": "C", "seq": seq}  # fmt: skip


def stored_seqs(data_dir: Path) -> list[int]:
    return sorted(r[0] for r in query(data_dir, "SELECT seq FROM readings"))


@pytest.fixture
def telemetry(
    own_app: Callable[..., httpx.Client], db: Driver, database: str, tmp_path: Path
) -> tuple[httpx.Client, dict[str, str], Path]:
    register_collateral(
        db, database, [AssetInfo("COLD-S", "inventory", Decimal(10), "t", owner_id="E-S")]
    )
    register_sensors(db, database, [SensorInfo("TH-S", SensorKind.THERMOMETER, "COLD-S")])
    data_dir = tmp_path / "sensors"
    http = own_app(sensors_dir=data_dir, sensors_registry_refresh_s=0.0)
    return http, token_headers(http, db, database, "telemetry-svc", Role.SERVICE), data_dir


def test_a_poisoned_batch_stores_its_good_readings(
    telemetry: tuple[httpx.Client, dict[str, str], Path],
) -> None:
    http, service, data_dir = telemetry
    batch = [reading(1), reading(2**63), reading(3), reading(2**64 - 1), reading(2**63 - 1)]
    response = http.post("/api/v1/telemetry", json=batch, headers=service)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["accepted"] == 3
    rejected = {r["index"]: r for r in body["rejected"]}
    assert set(rejected) == {1, 3}
    assert all(r["reason"] == "malformed" and "2^63" in r["detail"] for r in rejected.values())
    assert stored_seqs(data_dir) == [1, 3, 2**63 - 1]
    # The retry of the good ones is a duplicate because they are stored; nothing is lost.
    again = http.post("/api/v1/telemetry", json=[reading(1), reading(3)], headers=service)
    assert (again.json()["accepted"], again.json()["duplicates"]) == (0, 2)


def test_a_reading_is_seen_only_once_it_is_stored(
    telemetry: tuple[httpx.Client, dict[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    http, service, data_dir = telemetry
    http.post("/api/v1/telemetry", json=[reading(10)], headers=service).raise_for_status()
    real_append = ReadingStore.append

    def disk_full(self: ReadingStore, *args: Any) -> None:
        raise RuntimeError("no space left on device")  # not even an OSError

    monkeypatch.setattr(ReadingStore, "append", disk_full)
    failed = http.post("/api/v1/telemetry", json=[reading(11), reading(12)], headers=service)
    assert failed.status_code == 503 and "not stored" in failed.json()["detail"]
    monkeypatch.setattr(ReadingStore, "append", real_append)
    # The client retries: taken, not answered "duplicate" for readings that were never kept.
    retry = http.post("/api/v1/telemetry", json=[reading(11), reading(12)], headers=service)
    assert (retry.json()["accepted"], retry.json()["duplicates"]) == (2, 0)
    assert stored_seqs(data_dir) == [10, 11, 12]
    again = http.post("/api/v1/telemetry", json=[reading(11)], headers=service)
    assert again.json()["duplicates"] == 1


def test_undecodable_and_surrogate_payloads_are_answered_4xx(
    telemetry: tuple[httpx.Client, dict[str, str], Path],
) -> None:
    http, service, data_dir = telemetry
    headers = {**service, "content-type": "application/json"}
    for body in (
        b'[{"sensor_id": "\\ud800", "seq": 1}]',  # a lone surrogate
        b'[{"sensor_id": "TH-S\xff"}]',  # invalid UTF-8
        b"[" * 5_000 + b"]" * 5_000,  # deep nesting
        b'[{"sensor_id": "TH-S", "seq": 1e400}]',  # a number no float holds
    ):
        response = http.post("/api/v1/telemetry", content=body, headers=headers)
        assert 400 <= response.status_code < 500, (body[:40], response.text)
    # An unknown sensor whose id holds odd characters is rejected per reading, and echoed
    # back encodable.
    odd = {**reading(1), "sensor_id": "NOPE-\u00e9\u4e2d"}
    response = http.post("/api/v1/telemetry", json=[odd, reading(20)], headers=service)
    assert response.status_code == 200
    assert response.json()["rejected"][0]["reason"] == "unknown_device"
    assert stored_seqs(data_dir) == [20]
