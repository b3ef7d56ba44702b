"""Stream the tables that scoring reads out of Neo4j into Parquet pages, in bounded memory.

Each page of rows becomes one Parquet file under ``out_dir/<table>/``; ``gnn.dataset``
reads the folder exactly as it reads the generator's CSV files, so training and scoring
share one feature pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from neo4j import Driver

from gnn.dataset import TABLES
from graph.queries.risk import EXPORT_TABLES, iter_export


def export_tables(
    driver: Driver,
    database: str,
    out_dir: Path,
    *,
    page_size: int = 10_000,
    workers: int = 2,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Write every table of ``TABLES`` as Parquet pages; returns rows per table.

    Tables are exported ``workers`` at a time: each query runs on one server thread, so a
    second table in flight keeps the server's second core busy."""

    def export(table: str) -> int:
        return _export_table(driver, database, table, out_dir / table, page_size, progress)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip(TABLES, pool.map(export, TABLES), strict=True))


def _export_table(
    driver: Driver,
    database: str,
    table: str,
    folder: Path,
    page_size: int,
    progress: Callable[[str, int], None] | None,
) -> int:
    cols = TABLES[table]
    folder.mkdir(parents=True, exist_ok=True)
    schema = pa.schema([(c, _ARROW_TYPES.get(t, pa.string())) for c, t in cols.items()])
    position = {name: i for i, name in enumerate(EXPORT_TABLES[table].columns)}
    total = 0
    for k, rows in enumerate(iter_export(driver, database, table, page_size)):
        if not rows:
            continue
        columns = list(zip(*rows, strict=True))
        data = [
            _column(columns[position[c]] if c in position else [None] * len(rows),
                    schema.field(c).type)
            for c in cols
        ]  # fmt: skip
        pq.write_table(pa.table(data, schema=schema), folder / f"part-{k:06d}.parquet")
        total += len(rows)
        if progress is not None:
            progress(table, total)
    return total


_ARROW_TYPES = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_()}


def _column(values: Sequence[object], typ: pa.DataType) -> pa.Array:
    """One column as Arrow: converted in C when the values already have the column's type,
    else value by value (ids stored as numbers, flags stored as strings)."""
    try:
        return pa.array(values, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
        return pa.array([_coerce(v, typ) for v in values], type=typ)


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
