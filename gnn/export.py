"""Stream the tables that scoring reads out of Neo4j into Parquet pages, in bounded memory.

Each page of rows becomes one Parquet file under ``out_dir/<table>/``; ``gnn.dataset``
reads the folder exactly as it reads the generator's CSV files, so training and scoring
share one feature pipeline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from neo4j import Driver

from gnn.dataset import TABLES
from graph.queries.risk import iter_export


def export_tables(
    driver: Driver,
    database: str,
    out_dir: Path,
    *,
    page_size: int = 10_000,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write every table of ``TABLES`` as Parquet pages; returns rows per table."""
    counts: dict[str, int] = {}
    for table, cols in TABLES.items():
        folder = out_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        schema = pa.schema(
            [
                (
                    c,
                    pa.int64()
                    if t == "BIGINT"
                    else pa.float64()
                    if t == "DOUBLE"
                    else pa.bool_()
                    if t == "BOOLEAN"
                    else pa.string(),
                )
                for c, t in cols.items()
            ]
        )
        total = 0
        for k, rows in enumerate(iter_export(driver, database, table, page_size)):
            if not rows:
                continue
            data = {c: [_coerce(r.get(c), schema.field(c).type) for r in rows] for c in cols}
            pq.write_table(pa.table(data, schema=schema), folder / f"part-{k:06d}.parquet")
            total += len(rows)
            if progress is not None:
                progress(table, total)
        counts[table] = total
    return counts


def _coerce(value: object, typ: pa.DataType) -> object:
    if value is None:
        return None
    if typ == pa.int64():
        return int(value)  # type: ignore[call-overload]
    if typ == pa.float64():
        return float(value)  # type: ignore[arg-type]
    if typ == pa.bool_():
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    return str(value)
