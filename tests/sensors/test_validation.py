"""Validation of single readings: what is taken and why the rest is rejected."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from sensors.model import Reading, RejectReason, SensorInfo, SensorKind, to_us
from sensors.validation import decode, validate

NOW = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
SENSORS = {
    "SCL-1": SensorInfo("SCL-1", SensorKind.SCALE, "A-1"),
    "GPS-1": SensorInfo("GPS-1", SensorKind.GPS, "A-1"),
    "CAM-1": SensorInfo("CAM-1", SensorKind.CAMERA_COUNTER, "A-1"),
}


def check(
    sensor_id: str, fields: dict[str, object] | None = None, **more: object
) -> Reading | tuple[RejectReason, str]:
    payload = {"ts": "2026-11-22T08:00:00+08:00", "kind": "weight", "value": 1250.5, "unit": "kg"}
    payload.update(fields or {})
    payload.update(more)
    return validate(sensor_id, payload, SENSORS, to_us(NOW), 300_000_000)


def test_a_good_reading_keeps_its_instant_in_utc_microseconds() -> None:
    r = check("SCL-1", seq=41)
    assert isinstance(r, Reading)
    assert r.ts_us == to_us(datetime(2026, 11, 22, 0, 0, tzinfo=UTC))
    assert (r.sensor_id, r.kind, r.value, r.unit, r.seq) == ("SCL-1", "weight", 1250.5, "kg", 41)


def test_a_position_is_split_into_lat_and_lon() -> None:
    r = check("GPS-1", kind="position", unit="deg", value=[30.5, 114.3])
    assert isinstance(r, Reading)
    assert (r.value, r.value2) == (30.5, 114.3)


@pytest.mark.parametrize(
    ("sensor_id", "fields", "reason"),
    [
        ("SCL-9", {}, RejectReason.UNKNOWN_DEVICE),
        ("SCL-1", {"unit": "lb"}, RejectReason.WRONG_UNIT),
        ("SCL-1", {"kind": "temperature"}, RejectReason.WRONG_KIND),
        ("SCL-1", {"value": -3.0}, RejectReason.IMPOSSIBLE_VALUE),
        ("SCL-1", {"value": True}, RejectReason.MALFORMED),
        ("SCL-1", {"value": float("nan")}, RejectReason.MALFORMED),
        ("SCL-1", {"value": "12"}, RejectReason.MALFORMED),
        ("SCL-1", {"ts": "2026-11-22T08:00:00"}, RejectReason.NAIVE_TIMESTAMP),
        ("SCL-1", {"ts": "yesterday"}, RejectReason.MALFORMED),
        ("SCL-1", {"ts": (NOW + timedelta(hours=1)).isoformat()}, RejectReason.FUTURE_TIMESTAMP),
        ("SCL-1", {"seq": -1}, RejectReason.MALFORMED),
        ("SCL-1", {"sensor_id": "SCL-2"}, RejectReason.MALFORMED),
        (
            "GPS-1",
            {"kind": "position", "unit": "deg", "value": [91, 0]},
            RejectReason.IMPOSSIBLE_VALUE,
        ),
        ("GPS-1", {"kind": "position", "unit": "deg", "value": 30.5}, RejectReason.MALFORMED),
        ("CAM-1", {"kind": "count", "unit": "head", "value": 4.5}, RejectReason.IMPOSSIBLE_VALUE),
    ],
)
def test_bad_readings_are_rejected_with_a_reason(
    sensor_id: str, fields: dict[str, object], reason: RejectReason
) -> None:
    outcome = check(sensor_id, fields)
    assert isinstance(outcome, tuple)
    assert outcome[0] is reason
    assert outcome[1]  # a sentence a person can read


def test_a_small_clock_skew_into_the_future_is_tolerated() -> None:
    assert isinstance(check("SCL-1", ts=(NOW + timedelta(minutes=2)).isoformat()), Reading)


def test_decode_refuses_what_is_not_a_json_object() -> None:
    assert decode(b"{not json")[0] is RejectReason.MALFORMED  # type: ignore[index]
    assert decode(b"[1, 2]")[0] is RejectReason.MALFORMED  # type: ignore[index]
    assert decode(json.dumps({"a": 1}).encode()) == {"a": 1}
