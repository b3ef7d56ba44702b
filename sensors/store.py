"""The raw reading store: an fsync'd write-ahead log of Arrow batches, compacted into Parquet
files partitioned by day, queried with DuckDB.

Why this shape (see docs/sensors.md): readings are append-only time series read by time
range, so a columnar file per day is what range scans and downsampling want, and Parquet is
read by DuckDB, pandas, Spark alike. A Parquet file cannot be appended to durably, so each
accepted batch first goes to a log segment as one checksummed frame and is fsync'd; only then
is it acknowledged. When a segment is sealed (size, day change or shutdown) it is rewritten as
one Parquet file per day it touches and deleted. A crash can leave a torn last frame (never
acknowledged, dropped on recovery) or a segment whose Parquet files were already written (the
rewrite is idempotent: file names derive from the segment name).

Layout under `root`:
    wal/{writer}-{n:08d}.log                      live and sealed segments
    readings/day=YYYY-MM-DD/{writer}-{n:08d}.parquet
    rejects/{writer}.jsonl                        rejected payloads with their reasons
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from chainlens.logs import get_logger
from sensors.errors import StoreError
from sensors.model import Reading

log = get_logger(__name__)

SCHEMA = pa.schema(
    [
        ("sensor_id", pa.string()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("kind", pa.string()),
        ("value", pa.float64()),
        ("value2", pa.float64()),
        ("unit", pa.string()),
        ("seq", pa.int64()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        ("source", pa.string()),
    ]
)

_MAGIC = b"CLR1"
_HEADER = struct.Struct("<4sII")  # magic, payload length, crc32 of payload


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def readings_table(readings: Sequence[Reading], received_us: int, source: str) -> pa.Table:
    """Arrow table of `readings` in the store's schema (columns built in C, not row by row)."""
    n = len(readings)
    if n == 0:
        return SCHEMA.empty_table()
    sensor_id, ts, kind, value, value2, unit, seq = zip(*readings, strict=True)
    return pa.Table.from_arrays(
        [
            pa.array(sensor_id, pa.string()),
            pa.array(ts, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array(kind, pa.string()),
            pa.array(value, pa.float64()),
            pa.array(value2, pa.float64()),
            pa.array(unit, pa.string()),
            pa.array(seq, pa.int64()),
            pa.array([received_us] * n, pa.int64()).cast(pa.timestamp("us", tz="UTC")),
            pa.array([source] * n, pa.string()),
        ],
        schema=SCHEMA,
    )


def iter_frames(path: Path) -> Iterator[tuple[int, pa.Table]]:
    """Yield `(end_offset, table)` for each intact frame; stop at the first torn one."""
    with path.open("rb") as f:
        data = f.read()
    pos = 0
    while pos + _HEADER.size <= len(data):
        magic, length, crc = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        end = start + length
        if magic != _MAGIC or end > len(data):
            return
        payload = data[start:end]
        if zlib.crc32(payload) != crc:
            return
        with ipc.open_stream(payload) as reader:
            table = reader.read_all()
        pos = end
        yield pos, table


class ReadingStore:
    """One writer's view of the store; several writers (MQTT intake, API) use distinct names.

    Not thread-safe for writers: one thread appends. Compaction of sealed segments runs in a
    background thread and never touches the live segment.
    """

    def __init__(
        self,
        root: Path,
        writer: str = "intake",
        segment_bytes: int = 64 * 1024 * 1024,
        fsync: bool = True,
    ) -> None:
        if not writer.replace("-", "").replace("_", "").isalnum():
            raise StoreError(f"writer name {writer!r} must be alphanumeric")
        self.root = root
        self.writer = writer
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.wal_dir = root / "wal"
        self.readings_dir = root / "readings"
        self.rejects_dir = root / "rejects"
        self._file: Any = None
        self._segment: Path | None = None
        self._size = 0
        self._compactor: threading.Thread | None = None
        self._rejects: Any = None

    # -- writing -----------------------------------------------------------------------------

    def open(self) -> None:
        """Compact whatever segments this writer left behind (a crash, a stop), then start a
        fresh segment."""
        for d in (self.wal_dir, self.readings_dir, self.rejects_dir):
            d.mkdir(parents=True, exist_ok=True)
        leftovers = self._segments()
        for seg in leftovers:
            self._compact(seg)
        last = max((self._segment_number(s) for s in leftovers), default=0)
        last = max(last, self._last_compacted_number())
        self._start_segment(last + 1)
        self._rejects = (self.rejects_dir / f"{self.writer}.jsonl").open("ab")

    def append(self, readings: Sequence[Reading], received_us: int, source: str) -> None:
        """Write `readings` as one frame and fsync; on return they survive a crash."""
        if not readings:
            return
        if self._file is None:
            raise StoreError("store is not open")
        table = readings_table(readings, received_us, source)
        sink = pa.BufferOutputStream()
        with ipc.new_stream(sink, SCHEMA) as w:
            w.write_table(table)
        payload = sink.getvalue().to_pybytes()
        frame = _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload
        try:
            self._file.write(frame)
            self._file.flush()
            if self.fsync:
                os.fdatasync(self._file.fileno())
        except OSError as e:
            raise StoreError(f"cannot write segment {self._segment}: {e}") from e
        self._size += len(frame)
        if self._size >= self.segment_bytes:
            self.roll()

    def append_rejects(self, rows: Iterable[dict[str, Any]]) -> None:
        """Keep rejected payloads with their reasons (fsync'd: they are acknowledged too)."""
        if self._rejects is None:
            raise StoreError("store is not open")
        # backslashreplace: a payload holding a lone surrogate is kept escaped, not refused.
        data = b"".join(
            json.dumps(r, ensure_ascii=False, default=str).encode("utf-8", "backslashreplace")
            + b"\n"
            for r in rows
        )
        if not data:
            return
        self._rejects.write(data)
        self._rejects.flush()
        if self.fsync:
            os.fdatasync(self._rejects.fileno())

    def roll(self) -> None:
        """Seal the live segment, compact it in the background and start the next one."""
        sealed = self._close_segment()
        self._start_segment(self._segment_number(sealed) + 1)
        self.wait_compaction()
        self._compactor = threading.Thread(target=self._compact, args=(sealed,), daemon=True)
        self._compactor.start()

    def wait_compaction(self) -> None:
        if self._compactor is not None:
            self._compactor.join()
            self._compactor = None

    def close(self) -> None:
        """Seal and compact the live segment (a clean stop leaves only Parquet behind)."""
        self.wait_compaction()
        if self._file is not None:
            sealed = self._close_segment()
            self._compact(sealed)
        if self._rejects is not None:
            self._rejects.close()
            self._rejects = None

    def _start_segment(self, number: int) -> None:
        self._segment = self.wal_dir / f"{self.writer}-{number:08d}.log"
        self._file = self._segment.open("ab")
        self._size = self._file.tell()
        if self.fsync:
            _fsync_dir(self.wal_dir)

    def _close_segment(self) -> Path:
        assert self._file is not None and self._segment is not None
        self._file.close()
        self._file = None
        return self._segment

    def _segments(self) -> list[Path]:
        return sorted(self.wal_dir.glob(f"{self.writer}-*.log"))

    @staticmethod
    def _segment_number(path: Path) -> int:
        return int(path.stem.rsplit("-", 1)[1])

    def _last_compacted_number(self) -> int:
        numbers = [
            self._segment_number(p)
            for p in self.readings_dir.glob(f"day=*/{self.writer}-*.parquet")
        ]
        return max(numbers, default=0)

    def _compact(self, segment: Path) -> None:
        """Rewrite a sealed segment as one Parquet file per day, then delete it."""
        tables = [t for _, t in iter_frames(segment)]
        if tables:
            table = pa.concat_tables(tables)
            days = pc.strftime(table["ts"], format="%Y-%m-%d")
            for day in pc.unique(days).to_pylist():
                part = table.filter(pc.equal(days, day))
                self._write_parquet(self.readings_dir / f"day={day}", segment.stem, part)
        segment.unlink()
        if self.fsync:
            _fsync_dir(self.wal_dir)
        log.debug("sensors.store.compacted", segment=segment.name, frames=len(tables))

    def _write_parquet(self, day_dir: Path, stem: str, table: pa.Table) -> None:
        day_dir.mkdir(parents=True, exist_ok=True)
        final = day_dir / f"{stem}.parquet"
        tmp = day_dir / f".{stem}.parquet.tmp"
        pq.write_table(table.sort_by([("sensor_id", "ascending"), ("ts", "ascending")]), tmp)
        if self.fsync:
            fd = os.open(tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(tmp, final)
        if self.fsync:
            _fsync_dir(day_dir)


# -- reading ---------------------------------------------------------------------------------


def load_table(root: Path, since_us: int | None = None) -> pa.Table:
    """Every stored reading (Parquet and live segments of all writers), optionally from
    `since_us` on. A live segment is authoritative for its name: Parquet files of a segment
    still being compacted are skipped, so nothing is read twice."""
    for _ in range(5):
        try:
            return _load_table(root, since_us)
        except FileNotFoundError:
            continue  # a segment was compacted under our feet; list again
    return _load_table(root, since_us)


def _load_table(root: Path, since_us: int | None) -> pa.Table:
    segments = sorted((root / "wal").glob("*.log"))
    live = {s.stem for s in segments}
    tables: list[pa.Table] = [t for s in segments for _, t in iter_frames(s)]
    files = [p for p in sorted((root / "readings").glob("day=*/*.parquet")) if p.stem not in live]
    if since_us is not None:
        since_day = pa.scalar(since_us, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
        first_day = pc.strftime(since_day, format="%Y-%m-%d").as_py()
        files = [p for p in files if p.parent.name[4:] >= first_day]
    tables += [pq.read_table(p, schema=SCHEMA) for p in files]
    if not tables:
        return SCHEMA.empty_table()
    table = pa.concat_tables(tables)
    if since_us is not None:
        ts_int = table["ts"].cast(pa.int64())
        table = table.filter(pc.greater_equal(ts_int, since_us))
    return table


def query(root: Path, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run `sql` with DuckDB against a view `readings` over the whole store: the Parquet files
    are scanned in place (partition and column pruning), live segments are added in memory."""
    for attempt in range(5):
        try:
            return _query(root, sql, params)
        except (FileNotFoundError, duckdb.IOException):
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def _query(root: Path, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    segments = sorted((root / "wal").glob("*.log"))
    live_names = {s.stem for s in segments}
    live_tables = [t for s in segments for _, t in iter_frames(s)]
    live = pa.concat_tables(live_tables) if live_tables else SCHEMA.empty_table()
    files = [
        str(p)
        for p in sorted((root / "readings").glob("day=*/*.parquet"))
        if p.stem not in live_names
    ]
    con = duckdb.connect()
    try:
        con.register("live_readings", live)
        if files:
            listing = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
            con.execute(
                "CREATE VIEW readings AS SELECT * FROM read_parquet(["
                + listing
                + "], hive_partitioning = false) UNION ALL SELECT * FROM live_readings"
            )
        else:
            con.execute("CREATE VIEW readings AS SELECT * FROM live_readings")
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()
