"""A first load of an ingest folder into an empty database through Neo4j's offline importer.

`chainlens ingest --initial DIR` validates the folder exactly as `chainlens ingest` does
(`ingest.loader.validate_folder`: the same row checks, rejects file and resolver seam), but
hands the good rows to `ImportFiles`, which writes them as `neo4j-admin database import full`
input (CSV with a typed header, one ID space per label) under `DIR/_initial/`, together with
the batch markers a transactional load would have committed and the derived SUPPLIES edges.
The managed server is then stopped, the files imported into its one user database `neo4j`
with `--overwrite-destination`, the server started again, and the post-load steps run: the
schema (`graph.schema.apply_schema`), the loaded pledges' registrations and what the caller
adds (the CLI: entity resolution).

Restartable: each stage is recorded in `<neo4j home>/initial-load.json`. Prepared files are
reused when their folder hash, batch size and as-of date match (`_initial/prepared.json`,
written last). A run that finds an import begun (`importing`) or done but not finished
(`imported`) imports again from the prepared files, so a crash anywhere (of the server, the
importer or this process) followed by a re-run ends in the graph an uninterrupted run makes;
`complete` is written only after the last post-load step. A database with any node in it and
no such record is refused, unchanged. An external server (`NEO4J_URI`) is refused with the
`neo4j-admin` command an operator runs on it.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any

from neo4j import Driver

from chainlens.logs import get_logger
from chainlens.settings import Settings
from graph.model import Label
from graph.queries import initial as shape
from graph.queries.ingest import BatchMark
from ingest.errors import IngestError
from ingest.formats import FileSpec, Kind
from ingest.loader import (
    FileSummary,
    IngestSummary,
    ProgressCallback,
    RegistrySummary,
    SuppliesSummary,
    _year_before,
    data_folder,
    register_pledges,
    validate_folder,
)
from ingest.records import RecordResolver

log = get_logger(__name__)

PREPARED_DIR = "_initial"
PREPARED_MARK = "prepared.json"
STATE_FILE = "initial-load.json"
DATABASE = "neo4j"  # community edition's one user database

PostLoad = Callable[[Driver, str, ProgressCallback | None], None]


class InitialRefused(IngestError):
    """A first load that cannot run here (a database with data, an external server); nothing
    in the database was changed."""

    http_status = 409


# ---- the import files ---------------------------------------------------------------------
_KIND_TYPE = {
    Kind.MONEY: "long", Kind.DATE: "date", Kind.TIMESTAMP: "datetime", Kind.DECIMAL: "double",
    Kind.PERCENT: "double", Kind.LATITUDE: "double", Kind.LONGITUDE: "double",
    Kind.BOOL: "boolean",
}  # fmt: skip
# Row fields that the loader derives (book.financing_row, the USCC split, resolution).
_DERIVED_TYPE = {
    "uscc_valid": "boolean", "uscc_problem": "string", "amount_minor": "long",
    "outstanding_minor": "long", "origin": "string", "score": "double", "method": "string",
    shape.SOURCE_FILE: "string", shape.LOADED_AT: "datetime",
}  # fmt: skip


def _type(spec: FileSpec, key: str) -> str:
    if key in _DERIVED_TYPE:
        return _DERIVED_TYPE[key]
    return _KIND_TYPE.get(spec.field(key).kind, "string")


def _cell(value: Any) -> str:
    """One CSV field: strings always quoted (so that "" stays an empty string), None empty."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


def _plain(value: Any) -> str:
    return "" if value is None else str(value)


def _double(value: Any) -> str:
    return "" if value is None else repr(float(value))


def _boolean(value: Any) -> str:
    return "" if value is None else ("true" if value else "false")


def _iso(value: Any) -> str:
    return "" if value is None else str(value.isoformat())


_FORMAT: dict[str, Callable[[Any], str]] = {
    "long": _plain, "double": _double, "boolean": _boolean, "date": _iso, "datetime": _iso,
}  # fmt: skip
# A column: (row field, formatter), or (None, the cell every row has: source file, time).
_Column = tuple[str | None, Callable[[Any], str] | None, str]


class _Csv:
    def __init__(self, path: Path, header: list[str]) -> None:
        self.path = path
        self.rows = 0
        self._f: IO[str] = path.open("w", encoding="utf-8", newline="")
        self._f.write(",".join(header) + "\n")

    def write(self, cells: list[str]) -> None:
        self._f.write(",".join(cells) + "\n")
        self.rows += 1

    def close(self) -> None:
        self._f.close()


@dataclass(slots=True)
class _Trade:
    """Per seller and buyer, the non-void invoices RECOMPUTE_SUPPLIES counts."""

    days: list[date] = field(default_factory=list)
    cny: list[int] = field(default_factory=list)


class ImportFiles:
    """A `RowSink` that writes `neo4j-admin database import full` input into `out`."""

    def __init__(self, out: Path, loaded_at: datetime) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.csv"):
            old.unlink()
        self.loaded_at = loaded_at
        self.nodes: dict[str, tuple[Label, _Csv]] = {}
        self.rels: dict[tuple[Any, ...], tuple[str, _Csv]] = {}
        self.multiline = False
        self._trade: dict[tuple[str, str], _Trade] = {}
        self._latest: date | None = None
        self._batches = self._open_nodes("batches", shape.BATCH_LABEL, [
            "id:ID(IngestBatch)", "folder_hash", "file", "batch_no:long", "rows:long",
            "committed_at:datetime",
        ])  # fmt: skip

    def _open_nodes(self, name: str, label: Label, header: list[str]) -> _Csv:
        csv = _Csv(self.out / f"nodes-{name}.csv", header)
        self.nodes[name] = (label, csv)
        return csv

    def _rel_file(self, key: tuple[Any, ...], rel: str, header: list[str]) -> _Csv:
        found = self.rels.get(key)
        if found is None:
            csv = _Csv(self.out / f"rels-{len(self.rels):02d}-{rel}.csv", header)
            found = self.rels[key] = (rel, csv)
        return found[1]

    def _string(self, value: Any) -> str:
        if value is None:
            return ""
        if "\n" in value or "\r" in value:
            self.multiline = True
        return '"' + str(value).replace('"', '""') + '"'

    def _columns(self, spec: FileSpec, props: tuple[tuple[str, str], ...],
                 fixed: dict[str, Any]) -> list[_Column]:  # fmt: skip
        """How each property's cell is made, by its column type (fixed ones made once)."""
        out: list[_Column] = []
        for _, key in props:
            kind = _type(spec, key)
            fmt = _FORMAT.get(kind, self._string)
            if key in fixed:
                out.append((None, None, fmt(fixed[key])))
            else:
                out.append((key, fmt, ""))
        return out

    def write(self, spec: FileSpec, source_file: str, rows: list[dict[str, Any]],
              mark: BatchMark) -> None:  # fmt: skip
        fixed = {shape.SOURCE_FILE: source_file, shape.LOADED_AT: self.loaded_at}
        if spec.label is not None:
            self._write_nodes(spec, spec.label, rows, fixed)
        else:
            self._write_rels(spec, rows, fixed)
        if spec.name == "invoices":
            self._collect_trade(rows)
        self._batches.write([
            _cell(mark.id), _cell(mark.folder_hash), _cell(mark.file), str(mark.batch_no),
            str(mark.rows), _cell(self.loaded_at),
        ])  # fmt: skip

    def _write_nodes(self, spec: FileSpec, label: Label, rows: list[dict[str, Any]],
                     fixed: dict[str, Any]) -> None:  # fmt: skip
        props = shape.node_properties(label)
        geo = spec.name == "warehouses"
        entry = self.nodes.get(spec.name)
        if entry is None:
            header = [f"id:ID({label})"] + [f"{p}:{_type(spec, k)}" for p, k in props]
            if geo:
                header.append(f"{shape.GEO[0]}:point{{crs:WGS-84}}")
            entry = (label, self._open_nodes(spec.name, label, header))
        csv = entry[1]
        columns = self._columns(spec, props, fixed)
        string = self._string
        for row in rows:
            cells = [string(row["id"])]
            cells += [c if f is None else f(row.get(k)) for k, f, c in columns]  # type: ignore[arg-type]
            if geo:
                lat, lon = row.get(shape.GEO[1]), row.get(shape.GEO[2])
                cells.append(
                    "" if lat is None or lon is None
                    else f'"{{latitude:{lat!r}, longitude:{lon!r}}}"'
                )  # fmt: skip
            csv.write(cells)
        for i, link in enumerate(shape.NODE_LINKS.get(spec.name, ())):
            self._write_links(spec, label, i, link, rows)

    def _write_links(self, spec: FileSpec, label: Label, i: int, link: shape.Link,
                     rows: list[dict[str, Any]]) -> None:  # fmt: skip
        start, end = (label, link.other) if link.out else (link.other, label)
        header = [f":START_ID({start})", f":END_ID({end})"]
        header += [f"{p}:{_type(spec, k)}" for p, k in link.props]
        header += [f"{p}:string" for p, _ in link.fixed]
        csv = self._rel_file((spec.name, i), link.rel, header)
        fixed = [_cell(v) for _, v in link.fixed]
        columns = [(k, _FORMAT.get(_type(spec, k), self._string)) for _, k in link.props]
        string = self._string
        for row in rows:
            other = row.get(link.field)
            if other is None:
                continue
            ends = [string(row["id"]), string(other)]
            if not link.out:
                ends.reverse()
            csv.write(ends + [f(row.get(k)) for k, f in columns] + fixed)

    def _write_rels(self, spec: FileSpec, rows: list[dict[str, Any]],
                    fixed: dict[str, Any]) -> None:  # fmt: skip
        kind_field = shape.REL_FILE_KIND[spec.name]
        string = self._string
        plans: dict[str | None, tuple[shape.FileLink, _Csv, list[_Column]]] = {}
        for row in rows:
            kind = row[kind_field] if kind_field else None
            plan = plans.get(kind)
            if plan is None:
                link = shape.REL_FILE_LINKS[(spec.name, kind)]
                header = [f":START_ID({link.start})", f":END_ID({link.end})"]
                header += [f"{p}:{_type(spec, k)}" for p, k in link.props]
                csv = self._rel_file((spec.name, kind), link.rel, header)
                plan = plans[kind] = (link, csv, self._columns(spec, link.props, fixed))
            link, csv, columns = plan
            csv.write(
                [string(row[link.start_field]), string(row[link.end_field])]
                + [c if f is None else f(row.get(k)) for k, f, c in columns]  # type: ignore[arg-type]
            )

    def _collect_trade(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            issued = row["issued_on"]
            if self._latest is None or issued > self._latest:
                self._latest = issued
            if (row.get("status") or "") == shape.VOID_INVOICE:
                continue
            trade = self._trade.get((row["seller_id"], row["buyer_id"]))
            if trade is None:
                trade = self._trade[(row["seller_id"], row["buyer_id"])] = _Trade()
            trade.days.append(issued)
            currency = row.get("currency") or shape.SUPPLIES_CURRENCY
            trade.cny.append(row["amount"] if currency == shape.SUPPLIES_CURRENCY else 0)

    def supplies(self, as_of: date | None) -> SuppliesSummary | None:
        """Write SUPPLIES as `recompute_supplies` would rebuild it from these invoices."""
        if not self._trade and self._latest is None:
            return None
        started = time.perf_counter()
        as_of = as_of or self._latest
        assert as_of is not None
        since = _year_before(as_of)
        header = [":START_ID(Enterprise)", ":END_ID(Enterprise)", "amount_12m:long",
                  "invoices_12m:long", "amount_total:long", "invoices_total:long",
                  "first_on:date", "last_on:date", "currency:string", "as_of:date"]  # fmt: skip
        csv = self._rel_file(("supplies",), shape.SUPPLIES, header)
        sellers = {s for s, _ in self._trade}
        for (seller, buyer), trade in self._trade.items():
            days = [d for d in trade.days if d <= as_of]
            if not days:
                continue
            cny = [c for d, c in zip(trade.days, trade.cny, strict=True) if d <= as_of]
            recent = [(d, c) for d, c in zip(days, cny, strict=True) if d > since]
            csv.write([
                _cell(seller), _cell(buyer), str(sum(c for _, c in recent)), str(len(recent)),
                str(sum(cny)), str(len(days)), min(days).isoformat(), max(days).isoformat(),
                _cell(shape.SUPPLIES_CURRENCY), as_of.isoformat(),
            ])  # fmt: skip
        self._trade.clear()
        return SuppliesSummary(len(sellers), csv.rows, as_of, time.perf_counter() - started)

    def close(self) -> dict[str, Any]:
        """Close every file; returns the importer's inputs as `prepared.json` keeps them."""
        for _, csv in self.nodes.values():
            csv.close()
        for _, csv in self.rels.values():
            csv.close()
        return {
            "nodes": [[str(label), csv.path.name, csv.rows] for label, csv in self.nodes.values()],
            "relationships": [[rel, csv.path.name, csv.rows] for rel, csv in self.rels.values()],
            "multiline": self.multiline,
        }


# ---- preparation --------------------------------------------------------------------------
@dataclass(slots=True)
class Prepared:
    """The import files of one folder and what validating it found."""

    dir: Path
    folder_hash: str
    summary: IngestSummary
    inputs: dict[str, Any]
    reused: bool = False
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Import rows (nodes and relationships, markers and SUPPLIES included)."""
        nodes: int = sum(n for *_, n in self.inputs["nodes"])
        rels: int = sum(n for *_, n in self.inputs["relationships"])
        return nodes + rels

    def admin_args(self, base: Path | None = None) -> list[str]:
        """`neo4j-admin database import full` options naming the files (under `base`)."""
        where = base or self.dir
        args = [f"--nodes={label}={where / name}" for label, name, _ in self.inputs["nodes"]]
        args += [f"--relationships={rel}={where / name}"
                 for rel, name, _ in self.inputs["relationships"]]  # fmt: skip
        if self.inputs["multiline"]:
            args.append("--multiline-fields=true")
        return args


def prepare(
    folder: Path, *, batch_size: int = 5000, as_of: date | None = None,
    progress: ProgressCallback | None = None, resolver: RecordResolver | None = None,
) -> Prepared:  # fmt: skip
    """Validate `folder` and write its import files into `DIR/_initial/` (or reuse them)."""
    started = time.perf_counter()
    data, folder_hash = data_folder(folder, batch_size)
    out = data / PREPARED_DIR
    key = {"folder_hash": folder_hash, "batch_size": batch_size,
           "as_of": as_of.isoformat() if as_of else None}  # fmt: skip
    mark = out / PREPARED_MARK
    if mark.exists():
        kept = json.loads(mark.read_text())
        if {k: kept.get(k) for k in key} == key:
            summary = _summary_from_json(data, kept)
            return Prepared(out, folder_hash, summary, kept["inputs"], reused=True,
                            seconds=time.perf_counter() - started)  # fmt: skip
    mark.unlink(missing_ok=True)
    loaded_at = datetime.now(UTC)
    files = ImportFiles(out, loaded_at)
    try:
        summary = validate_folder(data, files, batch_size=batch_size, progress=progress,
                                  resolver=resolver, loaded_at=loaded_at)  # fmt: skip
        invoices = next((f for f in summary.files if f.name == "invoices"), None)
        if invoices is not None and invoices.error is None:
            summary.supplies = files.supplies(as_of)
    finally:
        inputs = files.close()
    _write_json(mark, {**key, "loaded_at": loaded_at.isoformat(), "inputs": inputs,
                       "summary": _summary_to_json(summary)})  # fmt: skip
    return Prepared(out, folder_hash, summary, inputs, seconds=time.perf_counter() - started)


def _summary_to_json(s: IngestSummary) -> dict[str, Any]:
    sup = s.supplies
    return {
        "files": [
            {"name": f.name, "path": f.path.name if f.path else None, "rows": f.rows,
             "loaded": f.loaded, "rejected": f.rejected, "batches": f.batches_written,
             "unknown_columns": f.unknown_columns, "error": f.error,
             "rejects": f.rejects_path.name if f.rejects_path else None,
             "seconds": f.elapsed_s}
            for f in s.files
        ],
        "ignored": s.ignored_files,
        "seconds": s.elapsed_s,
        "supplies": None if sup is None else {
            "sellers": sup.sellers, "edges": sup.edges,
            "as_of": sup.as_of.isoformat() if sup.as_of else None, "seconds": sup.elapsed_s,
        },
    }  # fmt: skip


def _summary_from_json(folder: Path, kept: dict[str, Any]) -> IngestSummary:
    data = kept["summary"]
    summary = IngestSummary(folder, kept["folder_hash"], None, ignored_files=data["ignored"],
                            elapsed_s=data.get("seconds", 0.0))  # fmt: skip
    for f in data["files"]:
        summary.files.append(FileSummary(
            f["name"], folder / f["path"] if f["path"] else None, f["rows"], f["loaded"],
            f["rejected"], f["batches"], 0, f["unknown_columns"], f["error"],
            folder / "_rejects" / f["rejects"] if f["rejects"] else None, f["seconds"],
        ))  # fmt: skip
    sup = data["supplies"]
    if sup is not None:
        as_of = date.fromisoformat(sup["as_of"]) if sup["as_of"] else None
        summary.supplies = SuppliesSummary(sup["sellers"], sup["edges"], as_of, sup["seconds"])
    return summary


def _write_json(path: Path, value: dict[str, Any]) -> None:
    """Write-then-rename, so that a crash never leaves half a record."""
    tmp = path.with_suffix(".partial")
    tmp.write_text(json.dumps(value, indent=1))
    os.replace(tmp, path)


# ---- the load -----------------------------------------------------------------------------
@dataclass(slots=True)
class InitialSummary:
    prepared: Prepared
    already_loaded: bool = False
    resumed_from: str | None = None  # the stage an earlier, interrupted run reached
    import_s: float = 0.0
    post_s: float = 0.0
    # Of post_s: the server's start, the schema, the registrations, the caller's post_load.
    stages_s: dict[str, float] = field(default_factory=dict)
    registry: RegistrySummary | None = None
    elapsed_s: float = 0.0

    @property
    def ingest(self) -> IngestSummary:
        return self.prepared.summary

    def line(self) -> str:
        p = self.prepared
        if self.already_loaded:
            return f"the database already holds the first load of {p.summary.folder}; nothing done"
        return (
            f"initial load: {p.rows:,} import rows ({p.summary.loaded:,} rows loaded, "
            f"{p.summary.rejected:,} rejected); prepare {p.seconds:.1f}s"
            f"{' (files reused)' if p.reused else ''}, neo4j-admin import {self.import_s:.1f}s, "
            f"post-load {self.post_s:.1f}s ("
            + ", ".join(f"{k} {v:.1f}s" for k, v in self.stages_s.items())
            + f"), total {self.elapsed_s:.1f}s"
            + (f"; resumed an interrupted run ({self.resumed_from})" if self.resumed_from else "")
        )


def admin_command(prepared: Prepared, base: Path | None = None) -> str:
    """The command an operator runs on an external server's machine (the server stopped)."""
    args = ["neo4j-admin", "database", "import", "full", DATABASE,
            "--overwrite-destination=true", "--id-type=string", "--bad-tolerance=0",
            *prepared.admin_args(base)]  # fmt: skip
    return " ".join(shlex.quote(a) for a in args)


def initial_load(
    settings: Settings,
    folder: Path,
    *,
    batch_size: int = 5000,
    as_of: date | None = None,
    progress: ProgressCallback | None = None,
    post_load: PostLoad | None = None,
    resolver: RecordResolver | None = None,
) -> InitialSummary:
    """Load `folder` into the managed server's empty database through `neo4j-admin`.

    Refuses (`InitialRefused`, nothing changed) a database holding any node unless an
    earlier, interrupted initial load left it so; a re-run after a completed load of the same
    folder does nothing. `post_load(driver, database, progress)` runs after the schema and the
    pledges' registrations, before the load is recorded complete.
    """
    from graph.driver import open_driver
    from graph.schema import apply_schema
    from graph.server import ManagedNeo4j

    started = time.perf_counter()
    if not settings.managed_neo4j:
        prepared = prepare(folder, batch_size=batch_size, as_of=as_of, progress=progress,
                           resolver=resolver)  # fmt: skip
        raise InitialRefused(
            f"NEO4J_URI points at an external server: ChainLens cannot stop it to import "
            f"offline, and loaded nothing. The import files are ready in {prepared.dir}. "
            f"On the server's machine, with the server stopped and its database '{DATABASE}' "
            f"empty, copy them there and run:\n  {admin_command(prepared)}\n"
            f"then start the server and run `chainlens db init` and `chainlens ingest "
            f"{folder} --batch-size {batch_size}` (it finds every batch already committed "
            f"and adds SUPPLIES, the registrations and entity resolution)."
        )
    if settings.neo4j_database != DATABASE:
        raise InitialRefused(f"the managed server's database is '{DATABASE}', not "
                             f"'{settings.neo4j_database}'")  # fmt: skip
    server = ManagedNeo4j(settings)
    state_path = server.home / STATE_FILE
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    _, folder_hash = data_folder(folder, batch_size)
    resumed = state.get("stage") if state.get("stage") in ("importing", "imported") else None
    if resumed is None:
        server.start()
        with open_driver(settings) as driver:
            if shape.has_nodes(driver, DATABASE):
                if state.get("stage") == "complete" and state.get("folder_hash") == folder_hash:
                    prepared = prepare(folder, batch_size=batch_size, as_of=as_of,
                                       resolver=resolver)  # fmt: skip
                    return InitialSummary(prepared, already_loaded=True,
                                          elapsed_s=time.perf_counter() - started)  # fmt: skip
                raise InitialRefused(
                    f"the database '{DATABASE}' is not empty: `ingest --initial` loads only "
                    f"into an empty one, and changed nothing. Use `chainlens ingest {folder}` "
                    f"to add to it."
                )
    prepared = prepare(folder, batch_size=batch_size, as_of=as_of, progress=progress,
                       resolver=resolver)  # fmt: skip
    summary = InitialSummary(prepared, resumed_from=resumed)
    record = {"folder_hash": prepared.folder_hash, "prepared": str(prepared.dir)}
    _write_json(state_path, {**record, "stage": "importing"})
    t0 = time.perf_counter()
    _report(progress, "neo4j-admin import", 0, 1)
    server.stop()
    server.admin_import(DATABASE, [
        "--overwrite-destination=true", "--id-type=string", "--bad-tolerance=0",
        *prepared.admin_args(),
    ])  # fmt: skip
    _write_json(state_path, {**record, "stage": "imported"})
    summary.import_s = time.perf_counter() - t0
    _report(progress, "neo4j-admin import", 1, 1)
    t0 = time.perf_counter()
    stages = summary.stages_s

    def lap(stage: str, since: float) -> float:
        now = time.perf_counter()
        stages[stage] = now - since
        return now

    server.start()
    t1 = lap("start", t0)
    with open_driver(settings) as driver:
        _report(progress, "schema", 0, 1)
        apply_schema(driver, DATABASE)
        _report(progress, "schema", 1, 1)
        t1 = lap("schema", t1)
        pledges = next((f for f in prepared.summary.files if f.name == "pledges"), None)
        if pledges is not None and pledges.error is None:
            summary.registry = register_pledges(driver, DATABASE)
            prepared.summary.registry = summary.registry
            t1 = lap("registry", t1)
        if post_load is not None:
            post_load(driver, DATABASE, progress)
            lap("post_load", t1)
    _write_json(state_path, {**record, "stage": "complete"})
    summary.post_s = time.perf_counter() - t0
    summary.elapsed_s = time.perf_counter() - started
    log.info("ingest.initial.done", rows=prepared.rows, import_s=round(summary.import_s, 2),
             seconds=round(summary.elapsed_s, 2))  # fmt: skip
    return summary


def _report(progress: ProgressCallback | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
