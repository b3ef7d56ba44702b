"""Benchmark: ChainLens ingest against a plain hand-written `UNWIND ... CREATE` loader.

Generates a synthetic folder (`ingest.synthetic.generate`), loads it with
`ingest.loader.ingest_folder` (validation, MERGE, batch markers and SUPPLIES included) into a
fresh database, then loads the same rows with the baseline (csv.DictReader, plain type
conversion, CREATE nodes, MATCH endpoints and CREATE relationships, same batch size) into
another fresh database, and prints rows per second for both and their ratio.

    .venv/bin/python bench/ingest.py --quick      # ~5k enterprises
    .venv/bin/python bench/ingest.py              # 100k enterprises

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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
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
        state_dir=PROJECT_ROOT / ".chainlens" / "bench-ingest",
        neo4j_bolt_port=7790, neo4j_http_port=7791, neo4j_heap="2g", neo4j_pagecache="1g",
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
