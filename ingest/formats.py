"""The ingest format v1 (docs/ingest-format.md) as typed tables: one `FileSpec` per file.

The specs are data, not code, so that a reader finds every file, field, key and reference in
one place; `ingest.validation` turns them into fast converters (no model object per row, which
measured several times slower than hand-written converters at a million rows).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from graph.model import CASE_OUTCOMES, Label

FORMAT_NAME = "chainlens-ingest"
# Version 2 added the `cases` file; folders of version 1 load unchanged.
FORMAT_VERSION = 2


class Kind(StrEnum):
    """How a field is written in a file (see the doc's value conventions)."""

    ID = "id"
    TEXT = "text"
    DATE = "date"
    TIMESTAMP = "timestamp"
    MONEY = "money"
    CURRENCY = "currency"
    PERCENT = "percent"
    DECIMAL = "decimal"
    BOOL = "bool"
    ENUM = "enum"
    USCC = "uscc"
    REGION = "region"
    INDUSTRY = "industry"
    SHA256 = "sha256"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    kind: Kind
    required: bool = False
    # A reference: the file whose `id` (or key) this field names.
    ref: str | None = None
    # A reference whose target file depends on another field's value, e.g. holder_kind.
    ref_by: tuple[str, dict[str, str]] | None = None
    choices: tuple[str, ...] = ()
    default: str | None = None
    # A date that may not lie after the day of the load (a decision not yet taken).
    not_future: bool = False

    @property
    def is_ref(self) -> bool:
        return self.ref is not None or self.ref_by is not None


@dataclass(frozen=True, slots=True)
class FileSpec:
    name: str
    fields: tuple[FieldSpec, ...]
    # Fields that together are unique within the file (a second occurrence is rejected).
    key: tuple[str, ...] = ("id",)
    # The label of the nodes the file describes (None for relationship files).
    label: Label | None = None
    # Further field combinations unique within the file (rejected as duplicates, like `key`).
    also_unique: tuple[tuple[str, ...], ...] = ()

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _f(name: str, kind: Kind = Kind.TEXT, required: bool = False, **kw: object) -> FieldSpec:
    return FieldSpec(name, kind, required, **kw)  # type: ignore[arg-type]


def _r(name: str, ref: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name, Kind.ID, required, ref=ref)


def _e(name: str, choices: str, required: bool = False) -> FieldSpec:
    return FieldSpec(name, Kind.ENUM, required, choices=tuple(choices.split()))


_HOLDER = {"person": "persons", "enterprise": "enterprises"}
_COLLATERAL = {"invoice": "invoices", "asset": "assets"}
_ID = _f("id", Kind.ID, True)
_CUR = _f("currency", Kind.CURRENCY, default="CNY")

ENTERPRISES = FileSpec("enterprises", (
    _ID, _f("name", required=True), _f("name_en"), _f("uscc", Kind.USCC), _f("legal_form"),
    _f("region_code", Kind.REGION), _f("industry_code", Kind.INDUSTRY),
    _f("registered_capital", Kind.MONEY), _CUR, _f("founded_on", Kind.DATE),
    _e("status", "active revoked cancelled liquidating"), _f("is_core", Kind.BOOL),
    _r("address_id", "addresses"), _r("phone_id", "phones"),
), label=Label.ENTERPRISE)  # fmt: skip
PERSONS = FileSpec("persons", (
    _ID, _f("name", required=True), _f("id_hash", Kind.SHA256),
    # Issue #21: what tells two people of one name apart (entity_resolution.persons).
    FieldSpec("birth_date", Kind.DATE, not_future=True), _f("nationality"), _f("address"),
    _f("phone"), _f("email"),
), label=Label.PERSON)  # fmt: skip
ADDRESSES = FileSpec("addresses", (
    _ID, _f("text", required=True), _f("region_code", Kind.REGION),
), label=Label.ADDRESS)  # fmt: skip
PHONES = FileSpec("phones", (_ID, _f("number", required=True)), label=Label.PHONE)
GOODS = FileSpec("goods", (
    _ID, _f("name", required=True), _f("hs_code"), _f("category"), _f("unit"),
), label=Label.GOODS)  # fmt: skip
WAREHOUSES = FileSpec("warehouses", (
    _ID, _f("name", required=True), _r("operator_id", "enterprises"),
    _f("region_code", Kind.REGION), _f("lat", Kind.LATITUDE), _f("lon", Kind.LONGITUDE),
), label=Label.WAREHOUSE)  # fmt: skip
CONTRACTS = FileSpec("contracts", (
    _ID, _e("kind", "purchase supply processing framework", True),
    _r("seller_id", "enterprises", True), _r("buyer_id", "enterprises", True),
    _f("amount", Kind.MONEY, True), _CUR, _f("signed_on", Kind.DATE, True),
    _f("due_on", Kind.DATE), _e("status", "active fulfilled terminated"),
), label=Label.CONTRACT)  # fmt: skip
INVOICES = FileSpec("invoices", (
    _ID, _r("seller_id", "enterprises", True), _r("buyer_id", "enterprises", True),
    _r("contract_id", "contracts"), _r("goods_id", "goods"), _f("qty", Kind.DECIMAL),
    _f("amount", Kind.MONEY, True), _f("tax", Kind.MONEY), _CUR,
    _f("issued_on", Kind.DATE, True), _f("due_on", Kind.DATE),
    _e("status", "issued paid partially_paid overdue void"),
), label=Label.INVOICE)  # fmt: skip
SHIPMENTS = FileSpec("shipments", (
    _ID, _r("contract_id", "contracts"), _r("invoice_id", "invoices"), _r("goods_id", "goods"),
    _r("from_id", "enterprises", True), _r("to_id", "enterprises", True),
    _f("qty", Kind.DECIMAL, True), _f("shipped_on", Kind.DATE, True),
    _f("received_on", Kind.DATE), _r("warehouse_id", "warehouses"),
), label=Label.SHIPMENT)  # fmt: skip
PAYMENTS = FileSpec("payments", (
    _ID, _r("invoice_id", "invoices", True), _r("payer_id", "enterprises", True),
    _r("payee_id", "enterprises", True), _f("amount", Kind.MONEY, True), _CUR,
    _f("paid_on", Kind.DATE, True),
), label=Label.PAYMENT)  # fmt: skip
ASSETS = FileSpec("assets", (
    _ID, _e("kind", "livestock inventory warehouse_receipt equipment", True),
    _r("owner_id", "enterprises", True), _r("goods_id", "goods"),
    _r("warehouse_id", "warehouses"), _f("quantity", Kind.DECIMAL, True), _f("unit"),
    _f("unit_value", Kind.MONEY), _CUR, _e("status", "active sold released"),
), label=Label.ASSET)  # fmt: skip
SENSORS = FileSpec("sensors", (
    _ID, _e("kind", "rfid_tag rfid_reader scale gps thermometer hygrometer camera_counter", True),
    _r("asset_id", "assets"), _r("warehouse_id", "warehouses"),
    _f("installed_on", Kind.DATE), _f("last_seen", Kind.TIMESTAMP),
), label=Label.SENSOR)  # fmt: skip
FINANCINGS = FileSpec("financings", (
    _ID,
    _e("product_kind", "factoring reverse_factoring receivables_pledge warehouse_receipt_pledge "
       "movable_asset_pledge order_financing confirmed_warehouse voucher_discounting", True),
    _r("borrower_id", "enterprises", True), _f("lender", required=True),
    _f("amount", Kind.MONEY, True), _f("outstanding", Kind.MONEY), _CUR,
    _f("start_on", Kind.DATE, True), _f("maturity_on", Kind.DATE, True),
    _e("status", "live repaid overdue written_off"),
), label=Label.FINANCING)  # fmt: skip
ENTERPRISE_RECORDS = FileSpec("enterprise_records", (
    _f("record_id", Kind.ID, True), _f("source", required=True), _f("name", required=True),
    # Kept as given: dirty identifiers are the input of entity resolution, not errors.
    _f("name_en"), _f("uscc"), _f("legacy_org_code"), _f("registration_no"), _f("legal_form"),
    _f("region_code"), _f("address"), _f("phone"), _f("legal_rep"),
    # Issue #21: the country of registration (ISO 3166-1 alpha-2), the address's city, other
    # names and other countries' identifiers (each a list separated by ";").
    _f("country"), _f("city"), _f("aliases"), _f("identifiers"),
), key=("record_id",), label=Label.SOURCE_RECORD)  # fmt: skip

HOLDINGS = FileSpec("holdings", (
    FieldSpec("holder_id", Kind.ID, True, ref_by=("holder_kind", _HOLDER)),
    _e("holder_kind", "person enterprise", True), _r("enterprise_id", "enterprises", True),
    _f("pct", Kind.PERCENT, True), _f("since", Kind.DATE),
), key=("holder_kind", "holder_id", "enterprise_id"))  # fmt: skip
ROLES = FileSpec("roles", (
    _r("person_id", "persons", True), _r("enterprise_id", "enterprises", True),
    _e("kind", "legal_representative director supervisor executive shareholder_rep", True),
), key=("person_id", "enterprise_id", "kind"))  # fmt: skip
GUARANTEES = FileSpec("guarantees", (
    _ID, FieldSpec("guarantor_id", Kind.ID, True, ref_by=("guarantor_kind", _HOLDER)),
    _e("guarantor_kind", "person enterprise", True), _r("beneficiary_id", "enterprises", True),
    _f("amount", Kind.MONEY, True), _CUR, _f("signed_on", Kind.DATE), _f("expires_on", Kind.DATE),
))  # fmt: skip
GOODS_INPUTS = FileSpec("goods_inputs", (
    _r("input_id", "goods", True), _r("output_id", "goods", True),
), key=("input_id", "output_id"))  # fmt: skip
PLEDGES = FileSpec("pledges", (
    _ID, _r("financing_id", "financings", True), _e("collateral_kind", "invoice asset", True),
    FieldSpec("collateral_id", Kind.ID, True, ref_by=("collateral_kind", _COLLATERAL)),
    _f("pledged_on", Kind.DATE, True),
))  # fmt: skip
CASES = FileSpec("cases", (
    _ID, _r("enterprise_id", "enterprises", True),
    FieldSpec("outcome", Kind.ENUM, True, choices=CASE_OUTCOMES),
    FieldSpec("decided_on", Kind.DATE, True, not_future=True),
    _f("source", required=True),
    # The bank's own alert reference; linked to an Alert node when one has that id.
    _f("alert_id", Kind.ID), _f("note"),
), also_unique=(("enterprise_id", "alert_id", "outcome", "decided_on"),),
    label=Label.CASE)  # fmt: skip

# Load order: every file comes after the files it references.
FILES: tuple[FileSpec, ...] = (
    ADDRESSES, PHONES, GOODS, PERSONS, ENTERPRISES, WAREHOUSES, CONTRACTS, INVOICES, SHIPMENTS,
    PAYMENTS, ASSETS, SENSORS, FINANCINGS, HOLDINGS, ROLES, GUARANTEES, GOODS_INPUTS, PLEDGES,
    ENTERPRISE_RECORDS, CASES,
)  # fmt: skip
BY_NAME: dict[str, FileSpec] = {spec.name: spec for spec in FILES}


def referenced_files() -> frozenset[str]:
    """Files whose ids other files reference (the loader keeps their ids in memory)."""
    out: set[str] = set()
    for spec in FILES:
        for f in spec.fields:
            if f.ref is not None:
                out.add(f.ref)
            if f.ref_by is not None:
                out.update(f.ref_by[1].values())
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Manifest:
    format: str
    version: int
    generator: str | None = None
    seed: int | None = None
    created_at: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
