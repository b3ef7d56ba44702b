"""A versioned model registry in the state folder: ``<state_dir>/models/<version>/``.

A version is a bundle: one fitted model per task (``fraud``, ``default``), each a GNN
(``<task>.pt``) or trees (``<task>.lgb``), plus ``meta.json`` with the data hash, features,
metrics, configuration and creation time (and, for versions trained on a bank's cases,
``MODEL_CARD.md``). Versions are never overwritten.

Which version scores: the one an admin promoted (``promote``, ``chainlens model promote``;
recorded with who and when in ``models/promoted.json``), else the newest usable version that
does not wait for promotion. Versions trained on cases (``requires_promotion`` in their
meta) are candidates: they score only once promoted, or when named.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gnn.baselines import TreeModel
from gnn.dataset import ENTERPRISE_FEATURES
from gnn.errors import ModelNotFound
from gnn.models import MODELS
from gnn.models.edge_sage import HeteroEdgeSAGE

TASKS = ("fraud", "default")
# What each task's model outputs: the label's probability itself, or the contagion share q
# that ``gnn.targets.ContagionPrior.compose`` turns into a PD (fitted with the prior's offset).
TARGETS = {"fraud": "label", "default": "contagion_share"}


@dataclass
class TaskModel:
    """A fitted model for one task, with what it needs to score a new graph."""

    task: str
    kind: str  # "gnn" or "trees"
    gnn: HeteroEdgeSAGE | None = None
    trees: TreeModel | None = None
    feature_mean: np.ndarray | None = None
    feature_std: np.ndarray | None = None
    calibration: tuple[float, float] | None = None
    """Platt scaling (a, b) of the GNN's logits: p = sigmoid(a * logit + b)."""
    target: str = "label"
    """A value of ``TARGETS``."""


@dataclass
class Bundle:
    version: str
    models: dict[str, TaskModel]
    meta: dict[str, Any]


def registry_dir(state_dir: Path) -> Path:
    return state_dir / "models"


def new_version(data_hash: str, now: datetime | None = None) -> str:
    at = now or datetime.now(UTC)
    salt = hashlib.sha256(f"{data_hash}{at.isoformat()}{os.getpid()}".encode()).hexdigest()[:6]
    return f"v{at:%Y%m%dT%H%M%S}-{salt}"


def save_bundle(
    state_dir: Path,
    models: dict[str, TaskModel],
    meta: dict[str, Any],
    *,
    card: Callable[[dict[str, Any]], str] | None = None,
) -> str:
    """Write a new version atomically (a temporary folder renamed into place); ``card``
    renders ``MODEL_CARD.md`` from the final meta (version included)."""
    root = registry_dir(state_dir)
    root.mkdir(parents=True, exist_ok=True)
    version = new_version(str(meta.get("data_hash", "")))
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    files: dict[str, dict[str, Any]] = {}
    for task, tm in models.items():
        entry: dict[str, Any] = {"kind": tm.kind, "target": tm.target}
        if tm.kind == "gnn":
            assert tm.gnn is not None and tm.feature_mean is not None and tm.feature_std is not None
            torch.save(tm.gnn.state_dict(), tmp / f"{task}.pt")
            entry.update(
                model=tm.gnn.NAME,
                config=tm.gnn.config,
                feature_mean=tm.feature_mean.tolist(),
                feature_std=tm.feature_std.tolist(),
                calibration=list(tm.calibration) if tm.calibration else None,
            )
        else:
            assert tm.trees is not None
            (tmp / f"{task}.lgb").write_bytes(tm.trees.to_bytes())
            entry.update(view=tm.trees.view)
        files[task] = entry
    full = {
        "features": list(ENTERPRISE_FEATURES),
        **meta,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(),
        "tasks": files,
    }
    (tmp / "meta.json").write_text(json.dumps(full, indent=2, default=str, ensure_ascii=False))
    if card is not None:
        (tmp / "MODEL_CARD.md").write_text(card(full), encoding="utf-8")
    tmp.rename(root / version)
    return version


def usable(meta: dict[str, Any]) -> bool:
    """Whether a version was trained on the features this code computes (a model trained on
    other columns would read the wrong ones)."""
    return bool(meta.get("features", list(ENTERPRISE_FEATURES)) == list(ENTERPRISE_FEATURES))


def list_versions(state_dir: Path, *, usable_only: bool = False) -> list[dict[str, Any]]:
    """Metadata of every version (or only the ``usable`` ones), oldest first."""
    root = registry_dir(state_dir)
    out = []
    if root.is_dir():
        for meta in root.glob("v*/meta.json"):
            out.append(json.loads(meta.read_text()))
    if usable_only:
        out = [m for m in out if usable(m)]
    return sorted(out, key=lambda m: (m["created_at"], m["version"]))


PROMOTED = "promoted.json"


def promoted(state_dir: Path) -> dict[str, Any] | None:
    """The promotion record (``version``, ``by``, ``at``, ``history``), None when none."""
    path = registry_dir(state_dir) / PROMOTED
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data if data.get("version") else None


def promote(state_dir: Path, version: str, by: str, note: str | None = None) -> dict[str, Any]:
    """Make ``version`` the one that scores (an admin's explicit act); the record keeps every
    earlier promotion. ``ModelNotFound`` for an unknown or unusable version."""
    found = [m for m in list_versions(state_dir) if m["version"] == version]
    if not found:
        raise ModelNotFound(f"no model version {version!r}")
    if not usable(found[0]):
        raise ModelNotFound(f"model version {version!r} was trained on other features")
    before = promoted(state_dir) or {}
    entry = {"version": version, "by": by, "at": datetime.now(UTC).isoformat(), "note": note}
    record = {**entry, "history": [*before.get("history", []), entry]}
    root = registry_dir(state_dir)
    tmp = root / f".{PROMOTED}.tmp"
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(root / PROMOTED)
    return record


def default_version(state_dir: Path) -> str | None:
    """The version that scores when none is named (see the module's docstring)."""
    record = promoted(state_dir)
    if record is not None:
        return str(record["version"])
    fitting = [
        m for m in list_versions(state_dir, usable_only=True) if not m.get("requires_promotion")
    ]
    return str(fitting[-1]["version"]) if fitting else None


def load_bundle(state_dir: Path, version: str | None = None) -> Bundle:
    """The named version, else the promoted one, else the newest usable one that needs no
    promotion; ``ModelNotFound`` when there is none."""
    versions = list_versions(state_dir)
    retrain = "run `chainlens train`"
    if not versions:
        raise ModelNotFound(f"no model in {registry_dir(state_dir)}; {retrain}")
    if version is None and promoted(state_dir) is not None:
        version = default_version(state_dir)
    if version is None:
        fitting = [m for m in versions if usable(m) and not m.get("requires_promotion")]
        if not fitting and any(usable(m) for m in versions):
            raise ModelNotFound(
                "every model here was trained on cases and waits for promotion: run "
                "`chainlens model promote VERSION` (or name a version)"
            )
        if not fitting:
            raise ModelNotFound(
                f"the {len(versions)} model(s) in {registry_dir(state_dir)} were trained on "
                f"other features than this version computes; {retrain}"
            )
        meta = fitting[-1]
    else:
        found = [m for m in versions if m["version"] == version]
        if not found:
            raise ModelNotFound(f"no model version {version!r}")
        meta = found[0]
        if not usable(meta):
            missing = [f for f in ENTERPRISE_FEATURES if f not in meta["features"]]
            raise ModelNotFound(
                f"model version {version!r} was trained on {len(meta['features'])} features, "
                f"not the {len(ENTERPRISE_FEATURES)} this version computes (missing: "
                f"{', '.join(missing) or 'none'}); {retrain}"
            )
    folder = registry_dir(state_dir) / meta["version"]
    models: dict[str, TaskModel] = {}
    for task, entry in meta["tasks"].items():
        if entry["kind"] == "gnn":
            gnn = MODELS[entry["model"]].from_config(entry["config"])
            gnn.load_state_dict(torch.load(folder / f"{task}.pt", weights_only=True))
            gnn.eval()
            models[task] = TaskModel(
                task,
                "gnn",
                gnn=gnn,
                feature_mean=np.asarray(entry["feature_mean"], dtype=np.float32),
                feature_std=np.asarray(entry["feature_std"], dtype=np.float32),
                calibration=tuple(entry["calibration"]) if entry.get("calibration") else None,
                target=entry.get("target", "label"),
            )
        else:
            trees = TreeModel.from_bytes((folder / f"{task}.lgb").read_bytes())
            models[task] = TaskModel(
                task, "trees", trees=trees, target=entry.get("target", "label")
            )
    return Bundle(meta["version"], models, meta)
