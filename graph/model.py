"""The graph model: every label and relationship type ChainLens writes, in one place.

Cypher elsewhere in `graph/` interpolates only these enum values, never user strings.
`docs/graph-model.md` documents each one.
"""

from __future__ import annotations

from enum import StrEnum


class Label(StrEnum):
    ENTERPRISE = "Enterprise"
    PERSON = "Person"
    ADDRESS = "Address"
    PHONE = "Phone"
    CONTRACT = "Contract"
    INVOICE = "Invoice"
    SHIPMENT = "Shipment"
    PAYMENT = "Payment"
    GOODS = "Goods"
    WAREHOUSE = "Warehouse"
    ASSET = "Asset"
    SENSOR = "Sensor"
    SOURCE_RECORD = "SourceRecord"
    # finance
    PRODUCT = "Product"
    CREDIT_LINE = "CreditLine"
    APPLICATION = "Application"
    FINANCING = "Financing"
    VOUCHER = "Voucher"
    ACCOUNT = "Account"
    TRANSFER = "Transfer"
    ALERT = "Alert"
    RELEASE_ORDER = "ReleaseOrder"  # sensors: permission to move pledged stock out
    DECISION = "Decision"
    # platform
    USER = "User"
    INGEST_BATCH = "IngestBatch"
    AUDIT_EVENT = "AuditEvent"  # api: who asked what, which decision was made


class Rel(StrEnum):
    HOLDS = "HOLDS"
    ROLE = "ROLE"
    LOCATED_AT = "LOCATED_AT"
    HAS_PHONE = "HAS_PHONE"
    SELLER = "SELLER"
    BUYER = "BUYER"
    UNDER = "UNDER"
    FOR = "FOR"
    SETTLES = "SETTLES"
    SUPPLIES = "SUPPLIES"
    PARTY = "PARTY"
    GUARANTEES = "GUARANTEES"
    INPUT_TO = "INPUT_TO"
    OWNS = "OWNS"
    OF = "OF"
    STORED_AT = "STORED_AT"
    OPERATES = "OPERATES"
    MONITORS = "MONITORS"
    INSTALLED_AT = "INSTALLED_AT"
    SHIPS = "SHIPS"
    DELIVERS = "DELIVERS"
    FROM = "FROM"
    TO = "TO"
    PAID_BY = "PAID_BY"
    PAID_TO = "PAID_TO"
    BORROWER = "BORROWER"
    PLEDGED_TO = "PLEDGED_TO"
    ASSIGNED_TO = "ASSIGNED_TO"
    SPLIT_FROM = "SPLIT_FROM"
    HELD_BY = "HELD_BY"
    ISSUED_BY = "ISSUED_BY"
    RESOLVES_TO = "RESOLVES_TO"
    BRANCH_OF = "BRANCH_OF"
    SAME_AS = "SAME_AS"  # (:Person)-[:SAME_AS]->(:Person): a duplicate to its canonical node
    ABOUT = "ABOUT"
    RELEASES = "RELEASES"  # (:ReleaseOrder)-[:RELEASES]->(:Asset)
    # finance: credit-line hierarchy and use, voucher holding history
    GRANTED_TO = "GRANTED_TO"
    PART_OF = "PART_OF"
    DRAWS_ON = "DRAWS_ON"
    HELD = "HELD"


# Labels whose nodes are keyed by a unique `id` property.
KEYED_LABELS: tuple[Label, ...] = tuple(Label)
