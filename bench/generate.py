"""Wall time of the synthetic generator against the I/O floor of writing the same rows.

The baseline writes, with the same csv module, as many rows per file as the generator did,
each a copy of that file's first data row: what the files cost without any generation. The
headline ratio is generator time / baseline time in CPU seconds (lower is better; 1 would be
free generation); CPU time because wall time on a shared machine measures the neighbours.
Wall times are printed too. Full size is 10,000 enterprises (target: under 15 s), --quick 2,000.

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


def _baseline(src: Path, dst: Path) -> tuple[float, float]:
    """Write each file's row count again as copies of its first row; (CPU, wall) seconds."""
    rows: dict[str, tuple[list[str], list[str], int]] = {}
    for path in sorted(src.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            header = next(reader)
            first = next(reader, header)
            count = sum(1 for _ in reader) + 1
        rows[path.name] = (header, first, count)
    dst.mkdir(parents=True, exist_ok=True)
    c0, t0 = time.process_time(), time.perf_counter()
    for name, (header, first, count) in rows.items():
        with (dst / name).open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            for _ in range(count):
                w.writerow(first)
    return time.process_time() - c0, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 enterprises")
    parser.add_argument("--enterprises", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n = args.enterprises or (2_000 if args.quick else 10_000)

    gen_cpu: list[float] = []
    gen_wall: list[float] = []
    base_cpu: list[float] = []
    base_wall: list[float] = []
    rows = 0
    with tempfile.TemporaryDirectory(prefix="chainlens-bench-") as tmp:
        for k in range(args.repeats):
            out = Path(tmp) / f"run{k}"
            c0, t0 = time.process_time(), time.perf_counter()
            summary = generate(out, n, args.seed)
            gen_cpu.append(time.process_time() - c0)
            gen_wall.append(time.perf_counter() - t0)
            rows = sum(summary.counts.values())
            cpu, wall = _baseline(out / "data", Path(tmp) / f"base{k}")
            base_cpu.append(cpu)
            base_wall.append(wall)
            shutil.rmtree(out)
    gen, base = statistics.median(gen_cpu), statistics.median(base_cpu)
    gen_w, base_w = statistics.median(gen_wall), statistics.median(base_wall)
    ratio = gen / base
    print(f"enterprises {n:,}  data rows {rows:,}  repeats {args.repeats}")
    print(f"generator  median {gen:7.2f} s CPU {gen_w:7.2f} s wall  ({rows / gen:,.0f} rows/s CPU)")
    print(f"baseline   median {base:7.2f} s CPU {base_w:7.2f} s wall  (csv, same rows)")
    print(f"ratio generator/baseline (CPU) {ratio:.2f}, wall {gen_w / base_w:.2f}")
    print(json.dumps({"bench": "generate", "enterprises": n, "rows": rows,
                      "generator_cpu_s": round(gen, 3), "baseline_cpu_s": round(base, 3),
                      "generator_wall_s": round(gen_w, 3), "baseline_wall_s": round(base_w, 3),
                      "rows_per_cpu_s": round(rows / gen), "ratio": round(ratio, 3)}))


if __name__ == "__main__":
    main()
