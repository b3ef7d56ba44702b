"""Fixtures of the gnn tests: small generated worlds, made once per session.

Worlds come from the real generator (``ingest.synthetic.generate``) at the smallest sizes
that still carry every planted pattern, so that training runs take seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from ingest.synthetic import generate


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> Iterator[None]:
    """Colleagues share the two cores: keep torch on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Three generated worlds (seed -> folder with data/ and truth/)."""
    root = tmp_path_factory.mktemp("worlds")
    out = {}
    for seed, n in ((11, 600), (12, 600), (21, 800)):
        folder = root / f"seed{seed}-n{n}"
        generate(folder, n, seed)
        out[seed] = folder
    return out
