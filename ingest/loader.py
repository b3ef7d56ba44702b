"""Loading a folder of ingest files into Neo4j: validated, batched, idempotent, resumable.

Files load in reference order (`ingest.formats.FILES`). Each row is converted and checked
(duplicates within its file, references to rows of this folder or nodes already in the graph);
bad rows go to `DIR/_rejects/NAME.rejects.jsonl` and good rows are written in `UNWIND`
batches. Each batch is committed together with an `IngestBatch {id: folder-hash/file/no}`
marker, so a re-run after a crash (of the loader or of Neo4j) re-validates everything, which
is deterministic, and skips the batches already committed. Afterwards the derived SUPPLIES
edges are recomputed from all invoices in the graph, and the pledges of the loaded book's live
financings are registered in the registry of security interests (keyed: once).

    python -m ingest.loader DIR [--batch-size N] [--no-resume]
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import IO, Any, Protocol

from neo4j import Driver

from chainlens.logs import get_logger
from graph.model import FinancingOrigin, Label
from graph.queries import ingest as q
from graph.queries import receivables as rq
from ingest.book import financing_row
from ingest.errors import FileRefused, FolderRefused
from ingest.formats import BY_NAME, FILES, FORMAT_VERSION, FileSpec, Manifest, referenced_files
from ingest.records import EnterpriseRecord, IdentityResolver, RecordResolver
from ingest.validation import FileReader, FileScan, Reject, Row, UsccValue, read_manifest, scan_file

log = get_logger(__name__)

ProgressCallback = Callable[[str, int, int | None], None]
"""`(stage, done, total)`: stage is a file name or "supplies"; total None when unknown."""

REJECTS_DIR = "_rejects"
_SUFFIXES = (".csv", ".jsonl")
_REFERENCED = referenced_files()
# Relationship files: the field whose value picks the endpoint label (None: one query).
_KIND_FIELD: dict[str, str | None] = {
    "holdings": "holder_kind", "roles": None, "guarantees": "guarantor_kind",
    "goods_inputs": None, "pledges": "collateral_kind",
}  # fmt: skip


@dataclass(slots=True)
class FileSummary:
    name: str
    path: Path | None
    rows: int = 0
    loaded: int = 0
    rejected: int = 0
    batches_written: int = 0
    batches_skipped: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    error: str | None = None
    rejects_path: Path | None = None
    elapsed_s: float = 0.0


# Loaded financings whose invoices were sold to the lender (a transfer), not pledged.
TRANSFER_KINDS = ("factoring", "reverse_factoring")


@dataclass(frozen=True, slots=True)
class SuppliesSummary:
    sellers: int
    edges: int
    as_of: date | None
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class RegistrySummary:
    """The loaded book's pledges in the registry of security interests after the run."""

    covered: int  # collateral of live loaded financings that a registration covers
    registered: int  # of which registered by this run (0 on a second ingest)


@dataclass(slots=True)
class IngestSummary:
    folder: Path
    folder_hash: str
    manifest: Manifest | None
    files: list[FileSummary] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)
    supplies: SuppliesSummary | None = None
    registry: RegistrySummary | None = None
    elapsed_s: float = 0.0

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    @property
    def refused_files(self) -> list[FileSummary]:
        return [f for f in self.files if f.error is not None]

    def file(self, name: str) -> FileSummary:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)

    def rows(self) -> list[dict[str, Any]]:
        """One plain dict per file, for tables and JSON."""
        return [
            {
                "file": f.path.name if f.path else f.name, "rows": f.rows, "loaded": f.loaded,
                "rejected": f.rejected, "batches_written": f.batches_written,
                "batches_skipped": f.batches_skipped, "seconds": round(f.elapsed_s, 2),
                "notes": _notes(f),
                "rejects": str(f.rejects_path) if f.rejects_path else None,
            }
            for f in self.files
        ]  # fmt: skip

    def table(self) -> Any:
        """A rich `Table` of the summary (rich is imported here only, for the CLI's sake)."""
        from rich.table import Table

        t = Table(title=f"ingest {self.folder}")
        t.add_column("file")
        for col in ("rows", "loaded", "rejected", "batches"):
            t.add_column(col, justify="right")
        t.add_column("notes")
        for f in self.files:
            batches = f"{f.batches_written}" + (
                f" (+{f.batches_skipped} resumed)" if f.batches_skipped else ""
            )
            t.add_row(
                f.path.name if f.path else f.name, f"{f.rows:,}", f"{f.loaded:,}",
                f"[red]{f.rejected:,}[/red]" if f.rejected else "0", batches, _notes(f),
            )  # fmt: skip
        t.add_section()
        t.add_row(
            "total", f"{sum(f.rows for f in self.files):,}", f"{self.loaded:,}",
            f"{self.rejected:,}", "", f"{self.elapsed_s:.1f}s",
        )  # fmt: skip
        if self.supplies is not None:
            s = self.supplies
            t.add_row(
                "SUPPLIES", "", f"{s.edges:,}", "", "", f"{s.sellers:,} sellers, as of {s.as_of}"
            )
        if self.registry is not None:
            r = self.registry
            t.add_row("registry", "", f"{r.covered:,}", "", "",
                      f"pledges registered, {r.registered:,} new")  # fmt: skip
        for name in self.ignored_files:
            t.add_row(name, "", "", "", "", "ignored: not a file of the format")
        return t


def _notes(f: FileSummary) -> str:
    notes = []
    if f.error:
        notes.append(f"REFUSED: {f.error}")
    if f.unknown_columns:
        notes.append(f"ignored unknown columns: {', '.join(f.unknown_columns)}")
    if f.rejects_path:
        notes.append(f"rejects: {f.rejects_path}")
    return "; ".join(notes)


class RowSink(Protocol):
    """Where validated rows go instead of Neo4j (`ingest.initial` writes import files).

    `rows` are what the transactional path would send: node rows as converted for the graph
    (financings in the graph's shape, USCCs split, records resolved), relationship files'
    rows as validated; `mark` is the batch's `IngestBatch` marker."""

    def write(self, spec: FileSpec, source_file: str, rows: list[dict[str, Any]],
              mark: q.BatchMark) -> None: ...  # fmt: skip


# ---- discovery ----------------------------------------------------------------------------
@dataclass(slots=True)
class _Found:
    spec: FileSpec
    path: Path | None
    scan: FileScan | None = None
    error: FileRefused | None = None


def _discover(folder: Path) -> tuple[list[_Found], list[str]]:
    by_stem: dict[str, list[Path]] = {}
    ignored: list[str] = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith((".", "_")) or path.name == "manifest.json":
            continue
        if path.is_file() and path.suffix in _SUFFIXES and path.stem in BY_NAME:
            by_stem.setdefault(path.stem, []).append(path)
        else:
            ignored.append(path.name)
    found: list[_Found] = []
    for spec in FILES:
        paths = by_stem.get(spec.name)
        if not paths:
            continue
        if len(paths) > 1:
            names = " and ".join(p.name for p in paths)
            found.append(
                _Found(spec, paths[0], error=FileRefused(spec.name, f"both {names} given"))
            )
            continue
        item = _Found(spec, paths[0])
        try:
            item.scan = scan_file(paths[0])
        except FileRefused as e:
            item.error = e
        found.append(item)
    return found, ignored


def _folder_hash(found: list[_Found], batch_size: int) -> str:
    h = hashlib.sha256(f"v{FORMAT_VERSION}/batch={batch_size}".encode())
    for item in found:
        digest = item.scan.sha256 if item.scan else "refused"
        h.update(f"|{item.path.name if item.path else item.spec.name}={digest}".encode())
    return h.hexdigest()[:16]


# ---- loading one file ---------------------------------------------------------------------
class _RejectWriter:
    """Writes rejects of one file lazily, so that a clean file leaves no rejects file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._f: IO[str] | None = None
        path.unlink(missing_ok=True)

    def write(self, reject: Reject) -> None:
        if self._f is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._f = self.path.open("w", encoding="utf-8")
        self._f.write(reject.to_json() + "\n")
        self.count += 1

    def close(self) -> None:
        if self._f is not None:
            self._f.close()


@dataclass(slots=True)
class _Pending:
    row: Row
    key: Any
    # (field, target file, id) of references not found among this folder's rows.
    unresolved: list[tuple[str, str, str]]


class _FileLoader:
    """Validates one file row by row and writes its good rows batch by batch."""

    def __init__(
        self, loader: _FolderLoader, spec: FileSpec, path: Path, scan: FileScan,
        summary: FileSummary,
    ) -> None:  # fmt: skip
        self.o = loader
        self.spec = spec
        self.path = path
        self.scan = scan
        self.summary = summary
        self.reader = FileReader(spec, path)
        self.rejects = _RejectWriter(loader.folder / REJECTS_DIR / f"{spec.name}.rejects.jsonl")
        self.seen: dict[Any, int] = {}
        self.seen_also: list[dict[tuple[Any, ...], int]] = [{} for _ in spec.also_unique]
        self.good_ids: set[str] | None = set() if spec.name in _REFERENCED else None
        self.refs = [f for f in spec.fields if f.is_ref]
        self.key_fields = spec.key
        self.file_key = spec.name
        if spec.name == "enterprise_records" and not isinstance(loader.resolver, IdentityResolver):
            resolver_name = getattr(loader.resolver, "name", type(loader.resolver).__qualname__)
            self.file_key = f"{spec.name}@{resolver_name}"
        self.prefix = f"{loader.folder_hash}/{self.file_key}/"
        self.committed = (
            q.committed_batches(loader.driver, loader.database, self.prefix)
            if loader.resume and loader.driver is not None
            else set()
        )
        self.batch_no = 0
        self.total = max(scan.lines - (1 if path.suffix == ".csv" else 0), 0)

    def run(self) -> None:
        started = time.perf_counter()
        chunk: list[_Pending] = []
        self.o.report(self.spec.name, 0, self.total)
        try:
            for item in self.reader.rows():
                self.summary.rows += 1
                if isinstance(item, Reject):
                    self.rejects.write(item)
                    continue
                pending = self._check(item)
                if pending is not None:
                    chunk.append(pending)
                    if len(chunk) >= self.o.batch_size:
                        self._flush(chunk)
                        chunk = []
            if chunk:
                self._flush(chunk)
            self.o.writer.drain()  # the next file's rows reference this file's nodes
        finally:
            self.rejects.close()
            self.summary.unknown_columns = list(self.reader.unknown_columns)
            self.summary.rejected = self.rejects.count
            self.summary.rejects_path = self.rejects.path if self.rejects.count else None
            self.summary.elapsed_s = time.perf_counter() - started
        self.o.report(self.spec.name, self.summary.rows, self.summary.rows)
        if self.good_ids is not None:
            self.o.folder_ids[self.spec.name] = self.good_ids

    def _reject(self, row: Row, field_name: str, reason: str) -> None:
        self.rejects.write(Reject(self.path.name, row.line, field_name, reason, row.raw))

    def _check(self, row: Row) -> _Pending | None:
        """Duplicate keys, and references resolved against this folder; None when rejected."""
        values = row.values
        key: Any = (
            values[self.key_fields[0]] if len(self.key_fields) == 1
            else tuple(values[k] for k in self.key_fields)
        )  # fmt: skip
        first = self.seen.get(key)
        if first is not None:
            shown = key if isinstance(key, str) else "/".join(map(str, key))
            self._reject(
                row, self.key_fields[0], f"duplicate key {shown!r} (first at line {first})"
            )
            return None
        for fields, seen in zip(self.spec.also_unique, self.seen_also, strict=True):
            combo = tuple(values[f] for f in fields)
            earlier = seen.get(combo)
            if earlier is not None:
                shown = "/".join("" if v is None else str(v) for v in combo)
                self._reject(
                    row, fields[0], f"duplicate of line {earlier}: same {', '.join(fields)} "
                    f"({shown!r})",
                )  # fmt: skip
                return None
        self.seen[key] = row.line
        for fields, seen in zip(self.spec.also_unique, self.seen_also, strict=True):
            seen[tuple(values[f] for f in fields)] = row.line
        unresolved: list[tuple[str, str, str]] = []
        for f in self.refs:
            ref_id = values[f.name]
            if ref_id is None:
                continue
            target = f.ref_by[1][values[f.ref_by[0]]] if f.ref_by is not None else str(f.ref)
            ids = self.o.folder_ids.get(target)
            if ids is None or ref_id not in ids:
                unresolved.append((f.name, target, ref_id))
        return _Pending(row, key, unresolved)

    def _flush(self, chunk: list[_Pending]) -> None:
        good = self._resolve_in_graph(chunk)
        self.batch_no += 1
        batch_id = f"{self.prefix}{self.batch_no}"
        if self.o.sink is not None:
            mark = q.BatchMark(
                batch_id, self.o.folder_hash, self.file_key, self.batch_no, len(good)
            )
            self.o.sink.write(self.spec, self.path.name, self._sink_rows(good), mark)
            self.summary.batches_written += 1
        elif batch_id in self.committed:
            self.summary.batches_skipped += 1
        else:
            assert self.o.driver is not None
            statements = self._statements([p.row for p in good])
            mark = q.BatchMark(
                batch_id, self.o.folder_hash, self.file_key, self.batch_no, len(good)
            )
            self.o.writer.submit(partial(
                q.write_batch, self.o.driver, self.o.database, statements,
                source_file=self.path.name, loaded_at=self.o.loaded_at, mark=mark,
            ))  # fmt: skip
            self.summary.batches_written += 1
        self.summary.loaded += len(good)
        if self.good_ids is not None:
            self.good_ids.update(p.key for p in good)
        self.o.report(self.spec.name, self.summary.rows, self.total)

    def _resolve_in_graph(self, chunk: list[_Pending]) -> list[_Pending]:
        wanted: dict[str, set[str]] = {}
        for p in chunk:
            for _, target, ref_id in p.unresolved:
                wanted.setdefault(target, set()).add(ref_id)
        if not wanted:
            return chunk
        driver = self.o.driver
        # Without a driver (a first load into an empty database) the graph holds nothing.
        found = {
            target: q.existing_ids(driver, self.o.database, _label(target), ids)
            if driver is not None else set()
            for target, ids in wanted.items()
        }  # fmt: skip
        good: list[_Pending] = []
        for p in chunk:
            missing = next(((f, t, i) for f, t, i in p.unresolved if i not in found[t]), None)
            if missing is None:
                good.append(p)
                continue
            f, target, ref_id = missing
            self._reject(
                p.row, f,
                f"dangling reference: no {target} row with id {ref_id!r} in this folder "
                f"(or it was rejected) and no {_label(target)} node with that id in the graph",
            )  # fmt: skip
        return good

    def _sink_rows(self, good: list[_Pending]) -> list[dict[str, Any]]:
        rows = [p.row for p in good]
        if self.spec.label is None:
            return [r.values for r in rows]
        if self.spec.name == "enterprise_records":
            return self._records(rows)
        return [self._node_row(r.values) for r in rows]

    def _statements(self, rows: list[Row]) -> list[q.Statement]:
        name = self.spec.name
        if name in _KIND_FIELD:
            kind_field = _KIND_FIELD[name]
            groups: dict[str | None, list[dict[str, Any]]] = {}
            for r in rows:
                kind = r.values[kind_field] if kind_field else None
                groups.setdefault(kind, []).append(r.values)
            return [q.rel_statement(name, kind, group) for kind, group in groups.items()]
        if name == "enterprise_records":
            return q.node_statements(name, self._records(rows))
        return q.node_statements(name, [self._node_row(r.values) for r in rows])

    def _node_row(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.spec.name == "financings":
            return financing_row(values)
        uscc = values.get("uscc")
        if not isinstance(uscc, UsccValue):
            return values
        out = dict(values)
        out["uscc"], out["uscc_valid"], out["uscc_problem"] = uscc.code, uscc.valid, uscc.problem
        return out

    def _records(self, rows: list[Row]) -> list[dict[str, Any]]:
        records = [
            EnterpriseRecord(**{k: v for k, v in r.values.items()}, line=r.line) for r in rows
        ]
        resolved = self.o.resolver.resolve(records)
        out = []
        for res in resolved:
            row = _record_fields(res.record)
            row.update(id=res.record.record_id, enterprise_id=res.enterprise_id,
                       score=res.score, method=res.method)  # fmt: skip
            out.append(row)
        return out


def _record_fields(record: EnterpriseRecord) -> dict[str, Any]:
    fields = BY_NAME["enterprise_records"].names
    return {name: getattr(record, name) for name in fields}


def _label(target_file: str) -> Label:
    label = BY_NAME[target_file].label
    assert label is not None, target_file
    return label


# ---- the folder ---------------------------------------------------------------------------
class _Writer:
    """Writes batches in order on one background thread while the main thread validates the
    next batch (Neo4j works while Python parses); at most `depth` batches wait in memory."""

    def __init__(self, depth: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._pending: deque[Future[None]] = deque()
        self._depth = depth

    def submit(self, write: Callable[[], None]) -> None:
        while len(self._pending) >= self._depth:
            self._pending.popleft().result()  # re-raises a failed write here
        self._pending.append(self._pool.submit(write))

    def drain(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


@dataclass(slots=True)
class _FolderLoader:
    """What every file of one run shares: connection, batch size, ids loaded so far."""

    driver: Driver | None  # None: validate only, rows go to `sink`
    database: str
    folder: Path
    batch_size: int
    progress: ProgressCallback | None
    resolver: RecordResolver
    resume: bool
    folder_hash: str = ""
    sink: RowSink | None = None
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    folder_ids: dict[str, set[str]] = field(default_factory=dict)
    writer: _Writer = field(default_factory=_Writer)

    def report(self, stage: str, done: int, total: int | None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


def ingest_folder(
    driver: Driver,
    database: str,
    folder: Path,
    *,
    batch_size: int = 5000,
    progress: ProgressCallback | None = None,
    resolver: RecordResolver | None = None,
    resume: bool = True,
    as_of: date | None = None,
) -> IngestSummary:
    """Validate and load every file of `folder`; bad rows go to `folder/_rejects/`.

    Re-running after an interruption skips the batches already committed (`resume=False`
    rewrites them, which MERGE makes harmless). SUPPLIES is recomputed when the folder has
    invoices, over a 12-month window ending at `as_of` (default: the latest invoice date).
    """
    started = time.perf_counter()
    folder, found, ignored = _open_folder(folder, batch_size)
    manifest = read_manifest(folder)
    state = _FolderLoader(
        driver, database, folder, batch_size, progress, resolver or IdentityResolver(), resume
    )
    state.folder_hash = _folder_hash(found, batch_size)
    summary = IngestSummary(folder, state.folder_hash, manifest, ignored_files=ignored)
    log.info("ingest.start", folder=str(folder), files=len(found), folder_hash=state.folder_hash)
    try:
        _load_files(state, summary, found)
    finally:
        state.writer.close()
    invoices = next((f for f in summary.files if f.name == "invoices"), None)
    if invoices is not None and invoices.error is None:
        summary.supplies = recompute_supplies(driver, database, as_of=as_of, progress=progress)
    pledges = next((f for f in summary.files if f.name == "pledges"), None)
    if pledges is not None and pledges.error is None:
        summary.registry = register_pledges(driver, database)
    summary.elapsed_s = time.perf_counter() - started
    log.info("ingest.done", loaded=summary.loaded, rejected=summary.rejected,
             seconds=round(summary.elapsed_s, 2))  # fmt: skip
    return summary


def _open_folder(folder: Path, batch_size: int) -> tuple[Path, list[_Found], list[str]]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FolderRefused(f"{folder} is not a folder")
    if batch_size < 1:
        raise FolderRefused(f"batch_size must be positive, got {batch_size}")
    found, ignored = _discover(folder)
    if not found and (folder / "data").is_dir():
        # A folder written by `chainlens generate`: its files are in data/, truth beside it.
        folder = folder / "data"
        found, ignored = _discover(folder)
    if not found:
        raise FolderRefused(
            f"{folder} holds no file of the ingest format (expected e.g. enterprises.csv; "
            f"see docs/ingest-format.md)"
        )
    return folder, found, ignored


def data_folder(folder: Path, batch_size: int = 5000) -> tuple[Path, str]:
    """The folder whose files load (`DIR` or a generated `DIR/data`) and its folder hash
    (the files' digests and the batch size: what names the `IngestBatch` markers)."""
    folder, found, _ = _open_folder(folder, batch_size)
    return folder, _folder_hash(found, batch_size)


def validate_folder(
    folder: Path,
    sink: RowSink,
    *,
    batch_size: int = 5000,
    progress: ProgressCallback | None = None,
    resolver: RecordResolver | None = None,
    loaded_at: datetime | None = None,
) -> IngestSummary:
    """Validate every file of `folder` as `ingest_folder` does, for a database known to be
    empty (a reference must name a row of this folder), and hand the good rows to `sink`
    batch by batch instead of writing them; rejects go to `folder/_rejects/` as usual."""
    started = time.perf_counter()
    folder, found, ignored = _open_folder(folder, batch_size)
    state = _FolderLoader(
        None, "", folder, batch_size, progress, resolver or IdentityResolver(), False,
        sink=sink,
    )  # fmt: skip
    if loaded_at is not None:
        state.loaded_at = loaded_at
    state.folder_hash = _folder_hash(found, batch_size)
    summary = IngestSummary(folder, state.folder_hash, read_manifest(folder), ignored_files=ignored)
    try:
        _load_files(state, summary, found)
    finally:
        state.writer.close()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def load_cases(
    driver: Driver,
    database: str,
    path: Path,
    *,
    batch_size: int = 5000,
    progress: ProgressCallback | None = None,
) -> IngestSummary:
    """Validate and load one cases file (any name ending in .csv or .jsonl) as `Case` nodes.

    Rows are checked as in a folder (docs/ingest-format.md, "cases"); bad rows go to
    `_rejects/cases.rejects.jsonl` beside the file; enterprises must already be in the graph.
    """
    started = time.perf_counter()
    path = Path(path)
    if not path.is_file() or path.suffix not in _SUFFIXES:
        raise FolderRefused(f"{path} is not a .csv or .jsonl cases file")
    spec = BY_NAME["cases"]
    item = _Found(spec, path)
    try:
        item.scan = scan_file(path)
    except FileRefused as e:
        item.error = e
    state = _FolderLoader(driver, database, path.parent, batch_size, progress,
                          IdentityResolver(), True)  # fmt: skip
    state.folder_hash = _folder_hash([item], batch_size)
    summary = IngestSummary(path.parent, state.folder_hash, None)
    try:
        _load_files(state, summary, [item])
    finally:
        state.writer.close()
    summary.elapsed_s = time.perf_counter() - started
    return summary


def _load_files(state: _FolderLoader, summary: IngestSummary, found: list[_Found]) -> None:
    folder = state.folder
    for item in found:
        fs = FileSummary(item.spec.name, item.path)
        summary.files.append(fs)
        stale = folder / REJECTS_DIR / f"{item.spec.name}.rejects.jsonl"
        if item.error is not None or item.scan is None or item.path is None:
            _refuse(fs, item.error or FileRefused(item.spec.name, "unreadable"), stale)
            continue
        try:
            _FileLoader(state, item.spec, item.path, item.scan, fs).run()
        except FileRefused as e:
            _refuse(fs, e, stale)
            continue
        log.info(
            "ingest.file", file=item.path.name, rows=fs.rows, loaded=fs.loaded,
            rejected=fs.rejected, written=fs.batches_written, skipped=fs.batches_skipped,
        )  # fmt: skip


def _refuse(fs: FileSummary, error: FileRefused, rejects_path: Path) -> None:
    """A refused file loads nothing; its one reject line says why."""
    fs.error = error.reason
    writer = _RejectWriter(rejects_path)
    writer.write(Reject(fs.path.name if fs.path else fs.name, error.line, error.field,
                        f"file refused: {error.reason}", {}))  # fmt: skip
    writer.close()
    fs.rejects_path = rejects_path
    log.warning("ingest.file_refused", file=fs.name, reason=error.reason)


def _year_before(d: date) -> date:
    try:
        return d.replace(year=d.year - 1)
    except ValueError:  # 29 February
        return d.replace(year=d.year - 1, day=28)


def recompute_supplies(
    driver: Driver,
    database: str,
    *,
    as_of: date | None = None,
    batch_size: int = 1000,
    progress: ProgressCallback | None = None,
) -> SuppliesSummary:
    """Rebuild every `(seller)-[:SUPPLIES]->(buyer)` edge from the invoices in the graph.

    The 12-month figures cover `(as_of - 12 months, as_of]`; `as_of` defaults to the latest
    invoice date in the graph, so that the result depends on the data, not on today.
    """
    started = time.perf_counter()
    as_of = as_of or q.latest_invoice_date(driver, database)
    sellers = q.supplies_sellers(driver, database)
    edges = 0
    if as_of is not None:
        since = _year_before(as_of)
        for i in range(0, len(sellers), batch_size):
            batch = sellers[i : i + batch_size]
            edges += q.recompute_supplies_batch(driver, database, batch, as_of=as_of, since=since)
            if progress is not None:
                progress("supplies", min(i + batch_size, len(sellers)), len(sellers))
    return SuppliesSummary(len(sellers), edges, as_of, time.perf_counter() - started)


def register_pledges(driver: Driver, database: str) -> RegistrySummary:
    """Register the loaded book's pledges in the registry of security interests (in the role
    of Zhongdeng), so that a financing at any funder on the platform is refused collateral a
    loaded lender holds, naming the registration; idempotent (keyed by financing and
    collateral)."""
    covered, registered = rq.register_loaded_pledges(
        driver, database, loaded=FinancingOrigin.LOADED.value, transfers=TRANSFER_KINDS,
        by="ingest", now=datetime.now(UTC),
    )  # fmt: skip
    log.info("ingest.registry", covered=covered, registered=registered)
    return RegistrySummary(covered, registered)


def clear_rejects(folder: Path) -> None:
    """Remove the folder's rejects (they are rewritten by every run anyway)."""
    shutil.rmtree(Path(folder) / REJECTS_DIR, ignore_errors=True)


def main(argv: Iterable[str] | None = None) -> int:
    """Load a folder with the configured Neo4j (an entry point: it creates the driver)."""
    from chainlens.logs import configure_logging
    from chainlens.settings import get_settings
    from graph.driver import open_driver

    parser = argparse.ArgumentParser(prog="python -m ingest.loader")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--no-resume", action="store_true")
    args = parser.parse_args(list(argv) if argv is not None else None)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    with open_driver(settings) as driver:
        summary = ingest_folder(
            driver, settings.neo4j_database, args.folder, batch_size=args.batch_size,
            resume=not args.no_resume,
        )  # fmt: skip
    from rich.console import Console

    Console(file=sys.stdout).print(summary.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
