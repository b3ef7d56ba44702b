"""Exactly-once for readings: a duplicate is the same sensor with the same `seq` (or, for a
device without a counter, the same timestamp).

Keys live in two generations of `horizon` event time each, so memory stays bounded and a key
is kept for at least `horizon` after the newest reading it was seen with. A reading older than
the watermark minus `horizon` cannot be checked any more and is rejected as too late rather
than risk storing it twice. MQTT redelivery after a crash and client retries both fall well
inside the horizon (two days by default).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum

from sensors.model import Reading

Key = tuple[str, int] | tuple[str, None, int]


class Verdict(IntEnum):
    NEW = 0
    DUPLICATE = 1
    TOO_LATE = 2


def key_of(sensor_id: str, ts_us: int, seq: int | None) -> Key:
    return (sensor_id, seq) if seq is not None else (sensor_id, None, ts_us)


class Deduplicator:
    def __init__(self, horizon_us: int) -> None:
        self.horizon_us = horizon_us
        self.watermark_us: int | None = None
        self._gen_start: int | None = None
        self._current: set[Key] = set()
        self._previous: set[Key] = set()

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def check(self, r: Reading) -> Verdict:
        """Classify `r` and remember it when new."""
        wm = self.watermark_us
        if wm is not None and r.ts_us < wm - self.horizon_us:
            return Verdict.TOO_LATE
        key = key_of(r.sensor_id, r.ts_us, r.seq)
        if key in self._current or key in self._previous:
            return Verdict.DUPLICATE
        self._current.add(key)
        if wm is None or r.ts_us > wm:
            self._advance(r.ts_us)
        return Verdict.NEW

    def forget(self, r: Reading) -> None:
        """Undo `check` for a reading whose write failed, so a redelivery is taken."""
        key = key_of(r.sensor_id, r.ts_us, r.seq)
        self._current.discard(key)
        self._previous.discard(key)

    def seed(self, keys: Iterable[tuple[str, int, int | None]]) -> None:
        """Remember stored readings `(sensor_id, ts_us, seq)` after a restart."""
        for sensor_id, ts_us, seq in keys:
            self._current.add(key_of(sensor_id, ts_us, seq))
            if self.watermark_us is None or ts_us > self.watermark_us:
                self.watermark_us = ts_us
        self._gen_start = self.watermark_us

    def _advance(self, ts_us: int) -> None:
        self.watermark_us = ts_us
        if self._gen_start is None:
            self._gen_start = ts_us
        elif ts_us - self._gen_start >= self.horizon_us:
            self._previous = self._current
            self._current = set()
            self._gen_start = ts_us
