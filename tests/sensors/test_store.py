"""The raw store: fsync'd frames, torn tails, per-day Parquet, idempotent compaction."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from sensors.model import Reading, to_us
from sensors.store import ReadingStore, iter_frames, load_table, query

DAY1 = to_us(datetime(2026, 10, 1, 23, 59, tzinfo=UTC))
DAY2 = to_us(datetime(2026, 10, 2, 0, 1, tzinfo=UTC))


def readings(sensor: str, first_seq: int, n: int, ts: int = DAY1) -> list[Reading]:
    return [
        Reading(sensor, ts + i * 1_000_000, "weight", 100.0 + i, None, "kg", first_seq + i)
        for i in range(n)
    ]


def stored_keys(root: Path) -> list[tuple[str, int]]:
    t = load_table(root)
    return sorted(zip(t["sensor_id"].to_pylist(), t["seq"].to_pylist(), strict=True))


def test_appended_readings_are_readable_before_and_after_compaction(tmp_path: Path) -> None:
    store = ReadingStore(tmp_path, writer="w1")
    store.open()
    store.append(readings("S1", 1, 3), DAY1, "mqtt")
    store.append(readings("S1", 4, 2, ts=DAY2), DAY2, "mqtt")
    assert stored_keys(tmp_path) == [("S1", s) for s in range(1, 6)]  # from the live segment
    store.close()
    assert not list((tmp_path / "wal").glob("*.log"))
    days = sorted(p.name for p in (tmp_path / "readings").iterdir())
    assert days == ["day=2026-10-01", "day=2026-10-02"]
    assert stored_keys(tmp_path) == [("S1", s) for s in range(1, 6)]
    rows = query(
        tmp_path,
        "SELECT count(*), max(value) FROM readings WHERE ts >= ?",
        [datetime(2026, 10, 2, tzinfo=UTC)],
    )
    assert rows == [(2, 101.0)]


def test_a_torn_last_frame_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    store = ReadingStore(tmp_path, writer="w1")
    store.open()
    store.append(readings("S1", 1, 2), DAY1, "mqtt")
    segment = next((tmp_path / "wal").glob("*.log"))
    good_size = segment.stat().st_size
    store.append(readings("S1", 3, 2), DAY1, "mqtt")
    # A crash in the middle of the second write: only part of its frame reached the disk.
    with segment.open("r+b") as f:
        f.truncate(good_size + 20)
    assert [len(t) for _, t in iter_frames(segment)] == [2]
    reopened = ReadingStore(tmp_path, writer="w1")
    reopened.open()  # compacts what the crash left
    assert stored_keys(tmp_path) == [("S1", 1), ("S1", 2)]
    reopened.close()


def test_compaction_interrupted_after_writing_parquet_does_not_duplicate(tmp_path: Path) -> None:
    store = ReadingStore(tmp_path, writer="w1")
    store.open()
    store.append(readings("S1", 1, 3), DAY1, "mqtt")
    segment = next((tmp_path / "wal").glob("*.log"))
    saved = tmp_path / "saved.log"
    shutil.copy(segment, saved)
    store.close()
    # Put the segment back as if the crash came before its deletion.
    shutil.copy(saved, segment)
    assert stored_keys(tmp_path) == [("S1", 1), ("S1", 2), ("S1", 3)]  # segment wins, once
    again = ReadingStore(tmp_path, writer="w1")
    again.open()
    again.close()
    assert stored_keys(tmp_path) == [("S1", 1), ("S1", 2), ("S1", 3)]


def test_rolling_segments_keeps_every_reading_once(tmp_path: Path) -> None:
    store = ReadingStore(tmp_path, writer="w1", segment_bytes=1)  # roll after every frame
    store.open()
    for i in range(5):
        store.append(readings("S1", 1 + 10 * i, 10), DAY1, "mqtt")
    store.wait_compaction()
    assert len(stored_keys(tmp_path)) == 50
    store.close()
    assert len(stored_keys(tmp_path)) == 50
    assert len(list((tmp_path / "readings" / "day=2026-10-01").glob("*.parquet"))) == 5


def test_rejects_are_kept_with_their_reason(tmp_path: Path) -> None:
    store = ReadingStore(tmp_path, writer="w1")
    store.open()
    store.append_rejects([{"sensor_id": "X", "reason": "unknown_device", "payload": "{}"}])
    store.close()
    text = (tmp_path / "rejects" / "w1.jsonl").read_text()
    assert '"reason": "unknown_device"' in text
