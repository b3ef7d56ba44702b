"""Benchmark: ChainLens ingest against a plain hand-written `UNWIND ... CREATE` loader.

Generates a synthetic folder (`ingest.synthetic.generate`), loads it with
`ingest.loader.ingest_folder` (validation, MERGE, batch markers and SUPPLIES included) into a
fresh database, then loads the same rows with the baseline (csv.DictReader, plain type
conversion, CREATE nodes, MATCH endpoints and CREATE relationships, same batch size) into
another fresh database, and prints rows per second for both and their ratio.

    .venv/bin/python bench/ingest.py --quick      # ~5k enterprises
    .venv/bin/python bench/ingest.py              # 100k enterprises
    .venv/bin/python bench/ingest.py --initial --quick

`--initial` measures `chainlens ingest --initial` (`ingest.initial.initial_load`: validation,
import files, neo4j-admin import, schema, registrations, entity resolution) against today's
transactional `chainlens ingest` (`ingest_folder` then `resolve_graph`) and against a bare
`neo4j-admin database import` of the same prepared files, all in one run on the same server;
its JSON line's "ratio" is transactional seconds / initial seconds (target >= 10) and
"vs_bare_import" bare import seconds / initial seconds (target >= 0.5). It needs the managed
server (no NEO4J_URI).

Without NEO4J_URI it runs its own managed Neo4j under `.chainlens/bench-ingest` (stopped at
the end); a fresh database there is a restart on an empty store. With NEO4J_URI set, that
server's database is cleared with `graph.maintenance.clear_database` instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainlens.logs import configure_logging
from chainlens.settings import PROJECT_ROOT, Environment, Settings
from graph.driver import create_driver, wait_until_answers
from graph.maintenance import clear_database, count_by_label
from graph.model import Label, Rel
from graph.queries import ingest as q
from graph.schema import apply_schema
from graph.server import ManagedNeo4j
from ingest.formats import BY_NAME, FILES, Kind
from ingest.initial import STATE_FILE, initial_load
from ingest.loader import ingest_folder

L, R = Label, Rel
# Baseline relationships per node file: (field, rel, direction, other label, rel props).
_REL_FIELDS: dict[str, list[tuple[str, Rel, str, Label, tuple[str, ...]]]] = {
    "enterprises": [("address_id", R.LOCATED_AT, "out", L.ADDRESS, ()),
                    ("phone_id", R.HAS_PHONE, "out", L.PHONE, ())],
    "warehouses": [("operator_id", R.OPERATES, "in", L.ENTERPRISE, ())],
    "contracts": [("seller_id", R.PARTY, "in", L.ENTERPRISE, ("role=seller",)),
                  ("buyer_id", R.PARTY, "in", L.ENTERPRISE, ("role=buyer",))],
    "invoices": [("seller_id", R.SELLER, "out", L.ENTERPRISE, ()),
                 ("buyer_id", R.BUYER, "out", L.ENTERPRISE, ()),
                 ("contract_id", R.UNDER, "out", L.CONTRACT, ()),
                 ("goods_id", R.FOR, "out", L.GOODS, ("qty",))],
    "shipments": [("from_id", R.FROM, "out", L.ENTERPRISE, ()),
                  ("to_id", R.TO, "out", L.ENTERPRISE, ()),
                  ("contract_id", R.UNDER, "out", L.CONTRACT, ()),
                  ("invoice_id", R.DELIVERS, "out", L.INVOICE, ()),
                  ("goods_id", R.OF, "out", L.GOODS, ("qty",)),
                  ("warehouse_id", R.STORED_AT, "out", L.WAREHOUSE, ())],
    "payments": [("invoice_id", R.SETTLES, "out", L.INVOICE, ()),
                 ("payer_id", R.PAID_BY, "out", L.ENTERPRISE, ()),
                 ("payee_id", R.PAID_TO, "out", L.ENTERPRISE, ())],
    "assets": [("owner_id", R.OWNS, "in", L.ENTERPRISE, ()),
               ("goods_id", R.OF, "out", L.GOODS, ()),
               ("warehouse_id", R.STORED_AT, "out", L.WAREHOUSE, ())],
    "sensors": [("asset_id", R.MONITORS, "out", L.ASSET, ()),
                ("warehouse_id", R.INSTALLED_AT, "out", L.WAREHOUSE, ())],
    "financings": [("borrower_id", R.BORROWER, "out", L.ENTERPRISE, ())],
}  # fmt: skip
# Relationship files: start field, the field naming its kind (None: fixed label), start label
# per kind, relationship per kind, end field, end label, relationship properties.
_K = {"person": L.PERSON, "enterprise": L.ENTERPRISE}
_REL_FILES: dict[str, tuple[str, str | None, dict[Any, Label], dict[Any, Rel], str, Label,
                            tuple[str, ...]]] = {
    "holdings": ("holder_id", "holder_kind", _K, {None: R.HOLDS}, "enterprise_id", L.ENTERPRISE,
                 ("pct", "since")),
    "roles": ("person_id", None, {None: L.PERSON}, {None: R.ROLE}, "enterprise_id", L.ENTERPRISE,
              ("kind",)),
    "guarantees": ("guarantor_id", "guarantor_kind", _K, {None: R.GUARANTEES}, "beneficiary_id",
                   L.ENTERPRISE, ("id", "amount", "currency", "signed_on", "expires_on")),
    "goods_inputs": ("input_id", None, {None: L.GOODS}, {None: R.INPUT_TO}, "output_id", L.GOODS,
                     ()),
    "pledges": ("collateral_id", "collateral_kind", {"invoice": L.INVOICE, "asset": L.ASSET},
                {"invoice": R.ASSIGNED_TO, "asset": R.PLEDGED_TO}, "financing_id", L.FINANCING,
                ("id", "pledged_on")),
}  # fmt: skip


def _plain(kind: Kind) -> Callable[[str], Any]:
    if kind is Kind.MONEY:
        return int
    if kind is Kind.DATE:
        return date.fromisoformat
    if kind is Kind.TIMESTAMP:
        return datetime.fromisoformat
    if kind in (Kind.DECIMAL, Kind.PERCENT, Kind.LATITUDE, Kind.LONGITUDE):
        return float
    if kind is Kind.BOOL:
        return lambda s: s in ("true", "1")
    return str


def baseline_load(driver: Any, database: str, folder: Path, batch_size: int) -> int:
    """Load every file with plain CREATEs; returns the number of rows read."""
    total = 0
    for spec in FILES:
        path = folder / f"{spec.name}.csv"
        if not path.exists():
            continue
        convert = {f.name: _plain(f.kind) for f in spec.fields}
        refs = {f.name for f in spec.fields if f.is_ref}
        with path.open(encoding="utf-8", newline="") as f:
            batch: list[dict[str, Any]] = []
            for raw in csv.DictReader(f):
                batch.append({k: convert[k](v) for k, v in raw.items() if v != "" and k in convert})
                if len(batch) >= batch_size:
                    q.baseline_write(driver, database, _baseline_statements(spec.name, batch, refs))
                    total += len(batch)
                    batch = []
            if batch:
                q.baseline_write(driver, database, _baseline_statements(spec.name, batch, refs))
                total += len(batch)
    return total


def _baseline_statements(
    name: str, rows: list[dict[str, Any]], refs: set[str]
) -> list[q.Statement]:
    spec = BY_NAME[name]
    if spec.label is not None:
        key = spec.key[0]
        nodes = [
            {("id" if k == key else k): v for k, v in r.items() if k not in refs} for r in rows
        ]
        out = [q.Statement(q.baseline_create_nodes(spec.label), nodes)]
        for field, rel, direction, other, props in _REL_FIELDS.get(name, []):
            rel_rows = [
                {"a": r[key], "b": r[field], "p": _props(r, props)} for r in rows if field in r
            ]
            if direction == "in":
                rel_rows = [{"a": x["b"], "b": x["a"], "p": x["p"]} for x in rel_rows]
                query = q.baseline_create_rels(other, rel, spec.label)
            else:
                query = q.baseline_create_rels(spec.label, rel, other)
            out.append(q.Statement(query, rel_rows))
        return out
    start, kind_field, labels, rels, end, end_label, props = _REL_FILES[name]
    groups: dict[tuple[Label, Rel], list[dict[str, Any]]] = {}
    for r in rows:
        kind = r[kind_field] if kind_field else None
        rel = rels.get(kind) or rels[None]
        row = {"a": r[start], "b": r[end], "p": _props(r, props)}
        groups.setdefault((labels[kind], rel), []).append(row)
    return [
        q.Statement(q.baseline_create_rels(label, rel, end_label), group)
        for (label, rel), group in groups.items()
    ]


def _props(row: dict[str, Any], props: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for p in props:
        if "=" in p:
            k, v = p.split("=", 1)
            out[k] = v
        elif p in row:
            out[p] = row[p]
    return out


class Database:
    """A fresh database per run: a restart on an empty store (managed) or a clear (external)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = ManagedNeo4j(settings) if settings.managed_neo4j else None
        self.driver: Any = None

    def fresh(self) -> Any:
        if self.driver is not None:
            self.driver.close()
        if self.server is not None:
            self.server.stop()
            for sub in ("databases", "transactions"):
                shutil.rmtree(self.server.data_dir / sub / self.settings.neo4j_database,
                              ignore_errors=True)  # fmt: skip
            self.server.start()
        self.driver = create_driver(self.settings)
        wait_until_answers(self.driver, self.settings.neo4j_database)
        if self.server is None:
            clear_database(self.driver, self.settings.neo4j_database)
        apply_schema(self.driver, self.settings.neo4j_database)
        return self.driver

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()
        if self.server is not None:
            self.server.stop()


def _resolve(driver: Any, database: str, progress: Any = None) -> None:
    from entity_resolution.pipeline import resolve_graph

    resolve_graph(driver, database, progress=progress)


def bench_initial(db: Database, data: Path, rows: int, repeat: int, batch_size: int,
                  n: int) -> dict[str, Any]:  # fmt: skip
    """Transactional ingest, `ingest --initial` and a bare neo4j-admin import, per repeat."""
    settings, server = db.settings, db.server
    assert server is not None, "--initial needs the managed server (unset NEO4J_URI)"
    database = settings.neo4j_database
    tx: list[float] = []
    tx_resolve: list[float] = []
    init: list[float] = []
    prepare: list[float] = []
    admin: list[float] = []
    bare: list[float] = []
    import_rows = 0
    for i in range(repeat):
        driver = db.fresh()
        t0 = time.perf_counter()
        summary = ingest_folder(driver, database, data, batch_size=batch_size)
        t1 = time.perf_counter()
        _resolve(driver, database)
        tx.append(time.perf_counter() - t0)
        tx_resolve.append(time.perf_counter() - t1)
        assert sum(f.rows for f in summary.files) == rows
        counts_tx = count_by_label(driver, database)
        db.fresh()
        db.driver.close()
        db.driver = None
        (server.home / STATE_FILE).unlink(missing_ok=True)
        shutil.rmtree(data / "_initial", ignore_errors=True)  # prepare from scratch
        t0 = time.perf_counter()
        result = initial_load(settings, data, batch_size=batch_size, post_load=_resolve)
        init.append(time.perf_counter() - t0)
        prepare.append(result.prepared.seconds)
        admin.append(result.import_s)
        import_rows = result.prepared.rows
        driver = create_driver(settings)
        counts_init = count_by_label(driver, database)
        driver.close()
        assert counts_init == counts_tx, (counts_init, counts_tx)
        # The bare importer on the same prepared files, the server stopped (as initial_load).
        server.stop()
        t0 = time.perf_counter()
        server.admin_import(database, [
            "--overwrite-destination=true", "--id-type=string", "--bad-tolerance=0",
            *result.prepared.admin_args(),
        ])  # fmt: skip
        bare.append(time.perf_counter() - t0)
        (server.home / STATE_FILE).unlink(missing_ok=True)
        after = ", ".join(f"{k} {v:.1f}s" for k, v in result.stages_s.items())
        print(f"run {i + 1}: transactional {tx[-1]:.1f}s (resolution {tx_resolve[-1]:.1f}s), "
              f"initial {init[-1]:.1f}s (prepare {prepare[-1]:.1f}s, neo4j-admin "
              f"{admin[-1]:.1f}s, then {after}), "
              f"bare neo4j-admin import {bare[-1]:.1f}s")  # fmt: skip
    t_tx, t_init, t_bare = (statistics.median(x) for x in (tx, init, bare))
    out = {
        "bench": "ingest-initial", "enterprises": n, "rows": rows, "import_rows": import_rows,
        "repeat": repeat, "transactional_s": round(t_tx, 2),
        "transactional_rows_per_s": round(rows / t_tx),
        "transactional_resolution_s": round(statistics.median(tx_resolve), 2),
        "initial_s": round(t_init, 2), "initial_rows_per_s": round(rows / t_init),
        "initial_prepare_s": round(statistics.median(prepare), 2),
        "initial_neo4j_admin_s": round(statistics.median(admin), 2),
        "bare_import_s": round(t_bare, 2), "bare_import_rows_per_s": round(rows / t_bare),
        "vs_bare_import": round(t_bare / t_init, 3), "ratio": round(t_tx / t_init, 3),
    }  # fmt: skip
    print(f"rows: {rows:,} (import rows, markers and SUPPLIES included: {import_rows:,})")
    print(f"transactional ingest + resolution: median {t_tx:.1f}s, {rows / t_tx:,.0f} rows/s")
    print(f"ingest --initial (all stages):     median {t_init:.1f}s, {rows / t_init:,.0f} rows/s")
    print(f"bare neo4j-admin import:           median {t_bare:.1f}s, {rows / t_bare:,.0f} rows/s")
    print(f"initial vs transactional: {out['ratio']:.2f}x (target >= 10x); "
          f"vs bare import: {out['vs_bare_import']:.2f}x (target >= 0.5x)")  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--initial",
        action="store_true",
        help="ingest --initial vs transactional vs bare neo4j-admin import",
    )
    parser.add_argument(
        "--state-dir", type=Path, default=PROJECT_ROOT / ".chainlens" / "bench-ingest"
    )
    parser.add_argument("--bolt-port", type=int, default=7790)
    parser.add_argument("--quick", action="store_true", help="~5k enterprises")
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--data", type=Path, default=None, help="an already generated data folder")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    configure_logging("WARNING")
    n = args.enterprises or (5_000 if args.quick else 100_000)

    workdir = Path(tempfile.mkdtemp(prefix="chainlens-bench-ingest-"))
    settings = Settings(
        environment=Environment.DEVELOPMENT,
        state_dir=args.state_dir.resolve(), neo4j_bolt_port=args.bolt_port,
        neo4j_http_port=args.bolt_port + 1, neo4j_heap="2g", neo4j_pagecache="1g",
    )  # fmt: skip
    db = Database(settings)
    try:
        if args.data is not None:
            data = args.data
        else:
            from ingest.synthetic.generator import generate

            t0 = time.perf_counter()
            generate(workdir, enterprises=n, seed=args.seed)
            data = workdir / "data"
            print(f"generated {n:,} enterprises in {time.perf_counter() - t0:.1f}s into {data}")
        if args.initial:
            rows = sum(max(sum(1 for _ in p.open("rb")) - 1, 0) for p in data.glob("*.csv"))
            print(json.dumps(bench_initial(db, data, rows, args.repeat, args.batch_size, n)))
            return 0
        ours: list[float] = []
        ours_load: list[float] = []
        base: list[float] = []
        rows = 0
        for i in range(args.repeat):
            driver = db.fresh()
            t0 = time.perf_counter()
            summary = ingest_folder(
                driver, settings.neo4j_database, data, batch_size=args.batch_size
            )
            ours.append(time.perf_counter() - t0)
            supplies_s = summary.supplies.elapsed_s if summary.supplies else 0.0
            ours_load.append(ours[-1] - supplies_s)
            rows = sum(f.rows for f in summary.files)
            nodes_ours = count_by_label(driver, settings.neo4j_database)
            driver = db.fresh()
            t0 = time.perf_counter()
            base_rows = baseline_load(driver, settings.neo4j_database, data, args.batch_size)
            base.append(time.perf_counter() - t0)
            nodes_base = count_by_label(driver, settings.neo4j_database)
            print(f"run {i + 1}: chainlens {ours[-1]:.1f}s (SUPPLIES {supplies_s:.1f}s, "
                  f"rejected {summary.rejected}), baseline {base[-1]:.1f}s")  # fmt: skip
            assert base_rows == rows, (base_rows, rows)
            nodes_ours.pop("IngestBatch", None)
            assert nodes_ours == nodes_base, (nodes_ours, nodes_base)
        t_ours, t_load, t_base = (statistics.median(x) for x in (ours, ours_load, base))
        result = {
            "bench": "ingest", "enterprises": n, "rows": rows, "batch_size": args.batch_size,
            "repeat": args.repeat,
            "chainlens_s": round(t_ours, 2), "chainlens_rows_per_s": round(rows / t_ours),
            "chainlens_without_supplies_rows_per_s": round(rows / t_load),
            "baseline_s": round(t_base, 2), "baseline_rows_per_s": round(rows / t_base),
            "ratio_without_supplies": round(t_base / t_load, 3),
            "ratio": round(t_base / t_ours, 3),
        }  # fmt: skip
        print(f"rows: {rows:,}")
        print(f"chainlens (validation, MERGE, markers, SUPPLIES): median {t_ours:.1f}s, "
              f"{rows / t_ours:,.0f} rows/s")  # fmt: skip
        print(f"baseline  (UNWIND ... CREATE):                   median {t_base:.1f}s, "
              f"{rows / t_base:,.0f} rows/s")  # fmt: skip
        without = result["ratio_without_supplies"]
        print(f"ratio chainlens/baseline: {result['ratio']:.2f}x "
              f"(without SUPPLIES {without:.2f}x; target >= 0.7x)")  # fmt: skip
        print(json.dumps(result))
    finally:
        db.close()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
