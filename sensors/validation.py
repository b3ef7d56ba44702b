"""Turning a raw payload into a `Reading`, or into a clear rejection.

This is on the hot path of the intake (tens of thousands of calls a second), so it returns a
`(reason, detail)` tuple instead of raising, and does no more than a dictionary lookup and a
few comparisons per reading.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeGuard

import orjson

from sensors.model import (
    READING_SPECS,
    Reading,
    ReadingKind,
    RejectReason,
    SensorInfo,
    to_us,
)

Outcome = Reading | tuple[RejectReason, str]

_NUMBER = (int, float)


def decode(payload: bytes | str) -> dict[str, Any] | tuple[RejectReason, str]:
    """JSON payload -> object, or a rejection when it is not a JSON object."""
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError as e:
        return RejectReason.MALFORMED, f"payload is not JSON: {e}"
    if not isinstance(obj, dict):
        return RejectReason.MALFORMED, "payload must be a JSON object"
    return obj


def validate(
    sensor_id: str,
    obj: Mapping[str, Any],
    sensors: dict[str, SensorInfo],
    now_us: int,
    max_future_us: int,
) -> Outcome:
    """Check one reading of `sensor_id` against the registry; `now_us` is the wall clock."""
    info = sensors.get(sensor_id)
    if info is None:
        return RejectReason.UNKNOWN_DEVICE, f"no sensor {sensor_id!r} in the registry"
    spec = READING_SPECS[info.kind]
    claimed = obj.get("sensor_id")
    if claimed is not None and claimed != sensor_id:
        return RejectReason.MALFORMED, f"payload names sensor {claimed!r}, topic {sensor_id!r}"

    raw_ts = obj.get("ts")
    if not isinstance(raw_ts, str):
        return RejectReason.MALFORMED, "ts must be an ISO 8601 string with an offset"
    try:
        ts = datetime.fromisoformat(raw_ts)
    except ValueError:
        return RejectReason.MALFORMED, f"ts {raw_ts!r} is not ISO 8601"
    if ts.tzinfo is None or ts.utcoffset() is None:
        return RejectReason.NAIVE_TIMESTAMP, f"ts {raw_ts!r} has no offset"
    ts_us = to_us(ts)
    if ts_us > now_us + max_future_us:
        return RejectReason.FUTURE_TIMESTAMP, f"ts {raw_ts!r} is in the future"

    kind = obj.get("kind")
    if kind != spec.kind:
        return RejectReason.WRONG_KIND, f"a {info.kind} sends {spec.kind!s}, not {kind!r}"
    unit = obj.get("unit")
    if unit != spec.unit:
        return RejectReason.WRONG_UNIT, f"{spec.kind!s} is in {spec.unit!r}, not {unit!r}"

    raw = obj.get("value")
    value2: float | None = None
    if kind == ReadingKind.POSITION:
        if not (isinstance(raw, list) and len(raw) == 2 and all(_is_number(v) for v in raw)):
            return RejectReason.MALFORMED, "position value must be [lat, lon]"
        lat, lon = float(raw[0]), float(raw[1])
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            return RejectReason.IMPOSSIBLE_VALUE, f"position {raw!r} is off the globe"
        value, value2 = lat, lon
    else:
        if not _is_number(raw):
            return RejectReason.MALFORMED, "value must be a number"
        value = float(raw)
        if not (spec.lo <= value <= spec.hi):
            return RejectReason.IMPOSSIBLE_VALUE, (
                f"{spec.kind!s} {value!r} outside [{spec.lo:g}, {spec.hi:g}] {spec.unit}"
            )
        if spec.integer and not value.is_integer():
            return RejectReason.IMPOSSIBLE_VALUE, f"{spec.kind!s} must be a whole number"

    seq = obj.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0):
        return RejectReason.MALFORMED, "seq must be a non-negative integer"
    return Reading(sensor_id, ts_us, kind, value, value2, unit, seq)


def _is_number(value: object) -> TypeGuard[int | float]:
    # bool is an int subclass; a `true` reading is a client bug, not a 1.
    return isinstance(value, _NUMBER) and not isinstance(value, bool) and math.isfinite(value)
