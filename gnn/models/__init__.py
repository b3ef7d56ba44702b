"""The learned models, one per file; the registry below is every model `train` can fit."""

from __future__ import annotations

from gnn.models.edge_sage import HeteroEdgeSAGE

MODELS: dict[str, type[HeteroEdgeSAGE]] = {HeteroEdgeSAGE.NAME: HeteroEdgeSAGE}
