"""Time of the generator at 10,000 enterprises (target under 15 s; bench/generate.py measures
it against the I/O floor).

The assertion is on CPU time: on a shared machine the wall time mostly measures the neighbours.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ingest.synthetic import generate


@pytest.mark.slow
def test_ten_thousand_enterprises_in_seconds(tmp_path: Path) -> None:
    cpu = time.process_time()
    summary = generate(tmp_path, 10_000, 3)
    cpu = time.process_time() - cpu
    assert summary.counts["enterprises"] == 10_000
    assert 80_000 <= summary.counts["invoices"] <= 150_000
    print(f"10k enterprises: {cpu:.1f} s CPU, {summary.elapsed_s:.1f} s wall")
    assert cpu < 15, cpu
    assert summary.elapsed_s < 300, summary.elapsed_s
