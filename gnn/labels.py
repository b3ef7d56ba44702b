"""Training labels from the generator's ground truth (``OUT/truth``, docs/generator.md).

Fraud positives are members of planted circular-trade rings, members of shell-company
clusters and sellers of planted fake trade (invoices with neither goods receipt nor payment),
and in a world generated with typologies the members of every planted laundering typology
(``truth/typology_members.csv``; their pattern is the typology, e.g. ``fan_in``).
Default positives are firms whose default date falls within the horizon after the scoring
date; firms already defaulted by then are excluded from the default task.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gnn.dataset import ChainGraph
from gnn.errors import DatasetError

FRAUD_PATTERNS = ("ring", "shell", "fake_trade")
TYPOLOGY_PATTERNS = (
    "fan_in", "fan_out", "scatter_gather", "gather_scatter", "cycle", "bipartite", "stack",
)
# How strongly each pattern is evidence of fraud: the training target of the fraud score, so
# that an analyst's top 1% holds rings and shells before firms with one unmatched invoice.
SEVERITY = {"ring": 1.0, "shell": 0.8, "fake_trade": 0.4, **dict.fromkeys(TYPOLOGY_PATTERNS, 1.0)}


@dataclass
class Labels:
    fraud: NDArray[np.bool_]
    pattern: NDArray[np.object_]
    """The planted pattern of each fraud positive ('' otherwise)."""
    rings: dict[str, list[int]]
    default: NDArray[np.bool_]
    """Defaults in (as_of, as_of + horizon]."""
    alive: NDArray[np.bool_]
    """Not defaulted by as_of: the population of the default task."""
    health: NDArray[np.float64]
    """Latent financial health at the truth's as-of date (for diagnostics only)."""
    look_alike: NDArray[np.bool_] | None = None
    """Innocent members of planted typology look-alikes (the hard negatives), if any."""
    instance: NDArray[np.object_] | None = None
    """The planted typology instance of each typology member ('' otherwise), if any."""

    @property
    def fraud_severity(self) -> NDArray[np.float64]:
        return np.asarray([SEVERITY.get(str(p), 0.0) for p in self.pattern], dtype=np.float64)


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _members(row: dict[str, object]) -> list[str]:
    members = row.get("members")
    return [str(m) for m in members] if isinstance(members, list) else []


def read_labels(truth_dir: str | Path, graph: ChainGraph, horizon_days: int = 365) -> Labels:
    """Labels aligned to ``graph``'s enterprises, as seen from ``graph.as_of``."""
    truth = Path(truth_dir)
    if not (truth / "defaults.csv").exists():
        raise DatasetError(f"no ground truth in {truth}")
    index = graph.index()
    n = graph.n
    pattern = np.full(n, "", dtype=object)
    rings: dict[str, list[int]] = {}
    with (truth / "unmatched_invoices.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            i = index.get(row["seller_id"])
            if i is not None and date.fromisoformat(row["issued_on"]) <= graph.as_of:
                pattern[i] = "fake_trade"
    for cluster in _jsonl(truth / "shell_clusters.jsonl"):
        for m in _members(cluster):
            if str(m) in index:
                pattern[index[str(m)]] = "shell"
    for ring in _jsonl(truth / "circular_trade_rings.jsonl"):
        members = [index[str(m)] for m in _members(ring) if str(m) in index]
        rings[str(ring["ring_id"])] = members
        for i in members:
            pattern[i] = "ring"
    typology_file = truth / "typology_members.csv"
    instance = np.full(n, "", dtype=object)
    if typology_file.exists():
        with typology_file.open(encoding="utf-8") as f:
            for row in csv.DictReader(f):
                i = index.get(row["enterprise_id"])
                if i is not None and pattern[i] in ("", "fake_trade"):
                    pattern[i] = row["typology"]
                    instance[i] = row["instance_id"]
    default = np.zeros(n, dtype=bool)
    alive = np.ones(n, dtype=bool)
    health = np.full(n, np.nan)
    end = graph.as_of + timedelta(days=horizon_days)
    with (truth / "defaults.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            i = index.get(row["enterprise_id"])
            if i is None:
                continue
            health[i] = float(row["health_asof"]) if row["health_asof"] else np.nan
            if row["default_on"]:
                on = date.fromisoformat(row["default_on"])
                if on <= graph.as_of:
                    alive[i] = False
                elif on <= end:
                    default[i] = True
    look_alike = np.zeros(n, dtype=bool)
    for inst in _jsonl(truth / "typology_look_alikes.jsonl"):
        for m in _members(inst):
            if m in index and pattern[index[m]] == "":
                look_alike[index[m]] = True
    return Labels(
        look_alike=look_alike,
        instance=instance,
        fraud=pattern != "",
        pattern=pattern,
        rings=rings,
        default=default,
        alive=alive,
        health=health,
    )


def truth_as_of(truth_dir: str | Path) -> date:
    summary = json.loads((Path(truth_dir) / "summary.json").read_text(encoding="utf-8"))
    return date.fromisoformat(summary["as_of"])
