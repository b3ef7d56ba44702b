"""Wall time of the synthetic generator against the I/O floor of writing the same rows.

The baseline writes, with the same csv module, as many rows per file as the generator did,
each a copy of that file's first data row: what the files cost without any generation. The
headline ratio is generator time / baseline time (lower is better; 1 would be free
generation). Full size is 10,000 enterprises (target: under 15 s), --quick 2,000.

    .venv/bin/python bench/generate.py [--quick] [--enterprises N] [--repeats R]
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest.synthetic import generate


def _baseline(src: Path, dst: Path) -> float:
    """Write each file's row count again as copies of its first row; seconds taken."""
    rows: dict[str, tuple[list[str], list[str], int]] = {}
    for path in sorted(src.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            first = next(reader, header)
            count = sum(1 for _ in reader) + 1
        rows[path.name] = (header, first, count)
    dst.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for name, (header, first, count) in rows.items():
        with (dst / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for _ in range(count):
                w.writerow(first)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 enterprises")
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n = args.enterprises or (2_000 if args.quick else 10_000)

    gen_times: list[float] = []
    base_times: list[float] = []
    rows = 0
    with tempfile.TemporaryDirectory(prefix="chainlens-bench-") as tmp:
        for k in range(args.repeats):
            out = Path(tmp) / f"run{k}"
            t0 = time.perf_counter()
            summary = generate(out, n, args.seed)
            gen_times.append(time.perf_counter() - t0)
            rows = sum(summary.counts.values())
            base_times.append(_baseline(out / "data", Path(tmp) / f"base{k}"))
            shutil.rmtree(out)
    gen = statistics.median(gen_times)
    base = statistics.median(base_times)
    ratio = gen / base
    print(f"enterprises {n:,}  data rows {rows:,}  repeats {args.repeats}")
    print(f"generator  median {gen:8.2f} s  ({rows / gen:,.0f} rows/s)")
    print(f"baseline   median {base:8.2f} s  (csv writes of the same rows)")
    print(f"ratio generator/baseline {ratio:.2f}")
    print(json.dumps({"bench": "generate", "enterprises": n, "rows": rows,
                      "generator_s": round(gen, 3), "baseline_s": round(base, 3),
                      "rows_per_s": round(rows / gen), "ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
