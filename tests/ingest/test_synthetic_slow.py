"""Wall time of the generator at 10,000 enterprises (target under 15 s; bench/generate.py
measures it against the I/O floor)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.synthetic import generate


@pytest.mark.slow
def test_ten_thousand_enterprises_in_seconds(tmp_path: Path) -> None:
    summary = generate(tmp_path, 10_000, 3)
    assert summary.counts["enterprises"] == 10_000
    assert 80_000 <= summary.counts["invoices"] <= 150_000
    # 15 s is the target on an idle core; the margin absorbs a busy shared CI machine.
    assert summary.elapsed_s < 30, summary.elapsed_s
