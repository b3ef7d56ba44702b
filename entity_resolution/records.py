"""The records entity resolution reads, and their prepared (normalised, parsed) form.

An :class:`EnterpriseRecord` is one row of ``enterprise_records`` (docs/ingest-format.md) or
of the enterprises master file (then ``enterprise_id`` names the known enterprise). It is
prepared once: identifiers validated and cross-linked, names parsed, contacts normalised.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from operator import attrgetter
from typing import Any

from entity_resolution.errors import InvalidRecord
from entity_resolution.forked import run_split
from entity_resolution.normalise import (
    has_cjk,
    normalise_address,
    normalise_person_name,
    normalise_phone,
)
from entity_resolution.parse import NameParts, parse_names
from entity_resolution.uscc import IdentifierKeys, identifier_keys


@dataclass(frozen=True, slots=True)
class EnterpriseRecord:
    """One source's view of an enterprise, as given."""

    record_id: str
    source: str
    name: str
    name_en: str = ""
    uscc: str = ""
    legacy_org_code: str = ""
    registration_no: str = ""
    legal_form: str = ""
    region_code: str = ""
    address: str = ""
    phone: str = ""
    legal_rep: str = ""
    # Set on master records (the enterprises file): the enterprise they are.
    enterprise_id: str = ""
    # Country of registration (ISO 3166-1 alpha-2; China when empty) and the city of the
    # address.
    country: str = ""
    city: str = ""
    # Other names of the firm: former names (曾用名), abbreviations (简称), English names.
    aliases: tuple[str, ...] = ()
    # Other countries' numbers and LEIs, ``SCHEME:VALUE`` (`identifiers.typed_keys`).
    identifiers: tuple[str, ...] = ()

    @classmethod
    def from_fields(
        cls, record_id: str, source: str, values: Mapping[str, str | None], enterprise_id: str = ""
    ) -> EnterpriseRecord:
        """A record from text fields (a file row, a stored node): `RECORD_FIELDS`, lists
        (aliases, identifiers) written as one text separated by ``;``."""
        given: dict[str, Any] = {}
        for name in RECORD_FIELDS:
            text = values.get(name) or ""
            given[name] = split_list(text) if name in LIST_FIELDS else text
        return cls(record_id=record_id, source=source, enterprise_id=enterprise_id, **given)

    def raw_json(self) -> str:
        """The record as given, for the SourceRecord node (lineage keeps the original)."""
        # Fields are texts and tuples of texts: read them as they are (`asdict` deep-copies
        # every record, a tenth of resolving a freshly loaded graph).
        given = {name: getattr(self, name) for name in _ALL_FIELDS}
        return json.dumps({k: v for k, v in given.items() if v}, ensure_ascii=False,
                          sort_keys=True)  # fmt: skip


# What a source says about an enterprise (every field but the record's own keys), and those
# of them that hold several values.
RECORD_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(EnterpriseRecord)
    if f.name not in ("record_id", "source", "enterprise_id")
)
LIST_FIELDS = frozenset({"aliases", "identifiers"})
_ALL_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(EnterpriseRecord))


def split_list(text: str) -> tuple[str, ...]:
    """A file cell holding several values (``a; b``) as a tuple."""
    return tuple(part.strip() for part in text.split(";") if part.strip())


def region_prefix(code: str) -> str:
    """A division code cut to its meaningful prefix: 330200 -> 3302, 110000 -> 11."""
    code = code.strip()
    if len(code) != 6 or not code.isdigit():
        return ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(slots=True)
class Prepared:
    """A record ready for blocking and scoring; computed once per record."""

    record: EnterpriseRecord
    ids: IdentifierKeys
    zh: NameParts | None  # the Chinese name, parsed
    en: NameParts | None  # the English name (name_en, or name when it is English), parsed
    phone: str
    address: str
    field_region: str  # region prefix from region_code, else from the USCC
    legal_rep: str

    # Derived once from the parts above (read for every candidate pair).
    primary: NameParts  # the Chinese parse when there is one, else the English one
    name_region: str  # region prefix named in the name (宁波 -> 3302), '' when none
    branch_key: str  # which branch this record names ('' for the main entity)
    # The record under each of its other names (aliases): the same facts, one name each.
    variants: tuple[Prepared, ...] = ()

    @property
    def trade_key(self) -> str:
        return self.primary.trade_key


def _derived(zh: NameParts | None, en: NameParts | None) -> tuple[NameParts, str, str]:
    primary = zh or en
    assert primary is not None  # prepare_records refuses records without a name
    region = next((p.region_code for p in (zh, en) if p is not None and p.region_code), "")
    branch = next((p.branch_key or p.branch for p in (zh, en) if p is not None and p.branch), "")
    return primary, region, branch


def _with_variants(p: Prepared, aliases: Sequence[NameParts]) -> Prepared:
    """``p`` with a variant for each alias name (its only name; the facts are ``p``'s)."""
    if not aliases:
        return p
    variants = []
    for parts in aliases:
        zh, en = (None, parts) if parts.is_english else (parts, None)
        primary, name_region, branch_key = _derived(zh, en)
        variants.append(replace(p, zh=zh, en=en, primary=primary, name_region=name_region,
                                branch_key=branch_key))  # fmt: skip
    p.variants = tuple(variants)
    return p


def field_region_of(country: str, region_code: str, uscc: str | None) -> str:
    """Where a record is registered, comparable by prefix: a division-code prefix for China
    (from region_code, else the USCC), the ISO country code for any other country."""
    country = country.strip().upper()
    if country and country != "CN":
        return country
    region = region_prefix(region_code)
    if not region and uscc:
        region = region_prefix(uscc[2:8])
    return region


def comparable_address(address: str, city: str) -> str:
    """The address text with its city in front when the text does not name it."""
    text, town = normalise_address(address), normalise_address(city)
    if not text or not town or town in text:
        return text
    return f"{text} {town}" if " " in text else town + text


# Below this many records a second process costs more than it saves.
PARALLEL_MIN_RECORDS = 50_000
_name_row = attrgetter(*(f.name for f in fields(NameParts)))
_ids_row = attrgetter(*(f.name for f in fields(IdentifierKeys)))
_PackedPrepared = tuple[Any, ...]


def prepare_records(records: Sequence[EnterpriseRecord], workers: int = 1) -> list[Prepared]:
    """Validate, normalise and parse records in bulk (each distinct name parsed once), in
    ``workers`` processes when there are many."""
    if workers <= 1 or len(records) < PARALLEL_MIN_RECORDS:
        return _prepare(records)
    chunks = run_split(lambda lo, hi: _prepare(records[lo:hi]), len(records), workers,
                       pack=_pack, unpack=lambda rows, lo, hi: _unpack(records[lo:hi], rows))
    return [p for chunk in chunks for p in chunk]


def _pack(prepared: list[Prepared]) -> list[_PackedPrepared]:
    """Prepared records as plain tuples, without what the parent has or derives again (the
    record; primary, name region, branch): several times cheaper to pickle than objects."""
    return [
        (_ids_row(p.ids), p.zh and _name_row(p.zh), p.en and _name_row(p.en), p.phone,
         p.address, p.field_region, p.legal_rep,
         tuple(_name_row(v.primary) for v in p.variants))
        for p in prepared
    ]  # fmt: skip


def _unpack(records: Sequence[EnterpriseRecord], rows: list[_PackedPrepared]) -> list[Prepared]:
    names: dict[tuple[Any, ...], NameParts] = {}  # records of one name share its parts

    def name(row: tuple[Any, ...] | None) -> NameParts | None:
        if row is None:
            return None
        parts = names.get(row)
        if parts is None:
            parts = names[row] = NameParts(*row)
        return parts

    out = []
    for rec, (ids, zh_row, en_row, phone, address, field_region, legal_rep, alias_rows) in zip(
        records, rows, strict=True
    ):
        zh, en = name(zh_row), name(en_row)
        primary, name_region, branch_key = _derived(zh, en)
        p = Prepared(rec, IdentifierKeys(*ids), zh, en, phone, address, field_region,
                     legal_rep, primary, name_region, branch_key)  # fmt: skip
        out.append(_with_variants(p, [parts for row in alias_rows
                                      if (parts := name(row)) is not None]))
    return out


def _prepare(records: Sequence[EnterpriseRecord]) -> list[Prepared]:
    names: list[str] = []
    for rec in records:
        if not (rec.name or rec.name_en).strip():
            raise InvalidRecord(f"record {rec.record_id} has no name")
        names.append(rec.name)
        if rec.name_en:
            names.append(rec.name_en)
        names.extend(rec.aliases)
    parsed = parse_names(n for n in names if n and n.strip())
    out: list[Prepared] = []
    for rec in records:
        zh = en = None
        if rec.name and has_cjk(rec.name):
            zh = parsed[rec.name]
        elif rec.name:
            en = parsed[rec.name]
        if rec.name_en and en is None:
            en = parsed[rec.name_en]
        ids = identifier_keys(rec.uscc, rec.legacy_org_code, rec.registration_no,
                              rec.identifiers)  # fmt: skip
        primary, name_region, branch_key = _derived(zh, en)
        p = Prepared(
            record=rec,
            ids=ids,
            zh=zh,
            en=en,
            phone=normalise_phone(rec.phone, rec.country),
            address=comparable_address(rec.address, rec.city),
            field_region=field_region_of(rec.country, rec.region_code, ids.uscc),
            legal_rep=normalise_person_name(rec.legal_rep),
            primary=primary,
            name_region=name_region,
            branch_key=branch_key,
        )
        own = {rec.name.strip(), rec.name_en.strip()}
        aliases = dict.fromkeys(a.strip() for a in rec.aliases if a.strip() not in own)
        out.append(_with_variants(p, [parsed[a] for a in aliases if a]))
    return out


def prepare_one(record: EnterpriseRecord) -> Prepared:
    return prepare_records([record])[0]


def iter_prepared(records: Iterable[EnterpriseRecord], chunk: int = 50_000) -> Iterable[Prepared]:
    """Prepare a long stream in chunks so that parsing batches stay bounded."""
    batch: list[EnterpriseRecord] = []
    for rec in records:
        batch.append(rec)
        if len(batch) >= chunk:
            yield from prepare_records(batch)
            batch = []
    if batch:
        yield from prepare_records(batch)
