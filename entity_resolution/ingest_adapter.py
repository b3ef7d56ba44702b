"""A `RecordResolver` for `ingest.loader`: entity resolution plugged into the ingest seam.

The loader hands over batches of `ingest.records.EnterpriseRecord` and links each record to
an *existing* enterprise. This resolver is built from the enterprises being loaded (master
records), resolves each batch together with everything seen before through the incremental
index, and reports the master enterprise a record belongs to (None when it resolves to no
known enterprise: `write_resolution` can then create one). `ingest` is imported lazily: it
depends on this package, not the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from entity_resolution.records import RECORD_FIELDS, EnterpriseRecord
from entity_resolution.resolver import RecordLink, ResolutionIndex, resolve_records
from entity_resolution.score import MatchModel

METHOD = "chainlens_er"


def _ours(rec: Any) -> EnterpriseRecord:
    """ingest's record (optional fields None) as this package's record (empty strings)."""
    return EnterpriseRecord.from_fields(
        rec.record_id, rec.source, {name: getattr(rec, name) for name in RECORD_FIELDS}
    )


class IndexResolver:
    """Resolves ingest batches against known enterprises and earlier batches."""

    name = METHOD

    def __init__(self, masters: Iterable[EnterpriseRecord], model: MatchModel | None = None):
        resolution = resolve_records(list(masters), model=model)
        assert resolution.index is not None
        self.index: ResolutionIndex = resolution.index
        self.known = {e for e in self.index.entities if not e.startswith("ER-")}
        self.links: list[RecordLink] = []

    def resolve(self, batch: list[Any]) -> list[Any]:
        from ingest.records import ResolvedRecord

        out = []
        for rec in batch:
            link = self.index.add(_ours(rec))
            self.links.append(link)
            enterprise = link.entity_id if link.entity_id in self.known else None
            out.append(ResolvedRecord(rec, enterprise, round(link.score, 6), METHOD))
        return out
