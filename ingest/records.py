"""The seam between validation and writing for entity resolution.

`enterprise_records` rows become `EnterpriseRecord`s; a `RecordResolver` decides which
enterprise each one is. Until entity resolution plugs its resolver in, `IdentityResolver`
keeps records as they are (keyed by their given ids, no `RESOLVES_TO` edges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    """One raw enterprise record from another source (bank KYC, customs, tax, ERP)."""

    record_id: str
    source: str
    name: str
    name_en: str | None = None
    uscc: str | None = None
    legacy_org_code: str | None = None
    registration_no: str | None = None
    legal_form: str | None = None
    region_code: str | None = None
    address: str | None = None
    phone: str | None = None
    legal_rep: str | None = None
    country: str | None = None
    city: str | None = None
    aliases: str | None = None  # several, separated by ";"
    identifiers: str | None = None  # SCHEME:VALUE, separated by ";"
    line: int = 0  # line in the source file, for messages


@dataclass(frozen=True, slots=True)
class ResolvedRecord:
    """A record and the enterprise it resolves to (None: not resolved)."""

    record: EnterpriseRecord
    enterprise_id: str | None = None
    score: float | None = None
    method: str | None = None


@runtime_checkable
class RecordResolver(Protocol):
    """Decides, per batch of records, which existing enterprise each record is."""

    def resolve(self, batch: list[EnterpriseRecord]) -> list[ResolvedRecord]: ...


class IdentityResolver:
    """The default: resolves nothing, so records stay keyed by their given ids."""

    name = "identity"

    def resolve(self, batch: list[EnterpriseRecord]) -> list[ResolvedRecord]:
        return [ResolvedRecord(record) for record in batch]
