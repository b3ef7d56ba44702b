"""The graph model: every label and relationship type ChainLens writes, in one place.

Cypher elsewhere in `graph/` interpolates only these enum values, never user strings.
`docs/graph-model.md` documents each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any


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
    LINE_PROPOSAL = "LineProposal"  # a grant or limit raise waiting for a second approver
    APPLICATION = "Application"
    FINANCING = "Financing"
    VOUCHER = "Voucher"
    ACCOUNT = "Account"
    TRANSFER = "Transfer"
    ALERT = "Alert"
    RELEASE_ORDER = "ReleaseOrder"  # sensors: permission to move pledged stock out
    FOLLOW_UP = "FollowUp"  # post-loan: a collections contact or an inspection of a financing
    DECISION = "Decision"
    CONFIRMATION = "Confirmation"  # a core's answer to a supplier's receivable (确权); history
    SECURITY_INTEREST = "SecurityInterest"  # a registered pledge or receivable transfer
    # risk cases: a bank's own labels (the cases file, analysts' dispositions)
    CASE = "Case"
    DISPOSITION = "Disposition"  # one analyst's judgement on a case; never changed once written
    # risk scoring: one run's scores of one enterprise, kept so that decisions read the scores
    # as they stood at a past time (the enterprise holds the latest)
    SCORE = "Score"
    # decisions: a version of a rule set (JSON Decision Model), drafted, published, retired
    RULE_SET = "RuleSet"
    # the product factory: a version of a product definition, drafted, published, retired
    PRODUCT_VERSION = "ProductVersion"
    # documents: a licence or invoice read by OCR and checked against the graph
    DOCUMENT = "Document"
    # several funders: a bank, factoring company or finance company with its own book
    FUNDER = "Funder"
    # platform
    USER = "User"
    INGEST_BATCH = "IngestBatch"
    AUDIT_EVENT = "AuditEvent"  # api: who asked what, which decision was made
    IDEMPOTENCY_KEY = "IdempotencyKey"  # api: a caller's request id for a mutation


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
    # confirmation of receivables: (:Confirmation)-[:CONFIRMS]->(:Invoice)
    CONFIRMS = "CONFIRMS"
    # the registry: (:SecurityInterest)-[:COVERS]->(:Invoice|Asset), -[:DEBTOR]->(:Enterprise)
    COVERS = "COVERS"
    DEBTOR = "DEBTOR"
    # risk cases: (:Case)-[:CONCERNS]->(:Enterprise), (:Case)-[:ON_ALERT]->(:Alert),
    # (:Disposition)-[:DISPOSES]->(:Case)
    CONCERNS = "CONCERNS"
    ON_ALERT = "ON_ALERT"
    DISPOSES = "DISPOSES"
    # documents: (:Document)-[:PROVES]->(:Enterprise|Invoice|Contract), what it evidences
    PROVES = "PROVES"
    # (:Document)-[:ATTACHED_TO {by, at}]->(:Application): evidence given with an application
    ATTACHED_TO = "ATTACHED_TO"
    # the workbench: (:User)-[:WATCHES {since}]->(:Enterprise), a user's watch list
    WATCHES = "WATCHES"
    SCORED = "SCORED"  # (:Enterprise)-[:SCORED]->(:Score): its scoring history


# Labels whose nodes are keyed by a unique `id` property.
KEYED_LABELS: tuple[Label, ...] = tuple(Label)


# --------------------------------------------------------------------------------------
# Statuses: every status value a writer may store, declared once. Queries receive the named
# sets below as parameters (`$live`, `$outstanding`) instead of typing the values inline.
# --------------------------------------------------------------------------------------


class FinancingStatus(StrEnum):
    """One status set for every financing: the book loaded from a lender's files and what
    ChainLens originates. Ingest maps a book's `live` to ACTIVE and `repaid` to CLOSED."""

    APPROVED = "approved"  # line held, collateral pledged, not yet contracted
    CONTRACTED = "contracted"
    ACTIVE = "active"  # disbursed, performing
    OVERDUE = "overdue"
    CLOSED = "closed"  # repaid
    WRITTEN_OFF = "written_off"
    CANCELLED = "cancelled"


# Financings that hold their collateral and occupy a line (a second pledge is refused).
FINANCING_LIVE: frozenset[FinancingStatus] = frozenset(
    {
        FinancingStatus.APPROVED,
        FinancingStatus.CONTRACTED,
        FinancingStatus.ACTIVE,
        FinancingStatus.OVERDUE,
    }
)
# Financings with money out: exposure, contagion, prospects.
FINANCING_OUTSTANDING: frozenset[FinancingStatus] = frozenset(
    {FinancingStatus.ACTIVE, FinancingStatus.OVERDUE}
)


class FinancingOrigin(StrEnum):
    LOADED = "loaded"  # from a lender's book in the ingest format; ChainLens does not service it
    ORIGINATED = "originated"  # applied for, decided and serviced through ChainLens


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    REFERRED = "referred"  # waiting for a credit officer (checker)
    APPROVED = "approved"
    DECLINED = "declined"  # by policy
    REJECTED = "rejected"  # by the checker
    # offers to several funders (docs/finance.md#offers-to-several-funders)
    OFFERED = "offered"  # a funder's offer: its line is held, waiting for the borrower
    LAPSED = "lapsed"  # the borrower took another funder's offer; the hold is released


class FunderKind(StrEnum):
    """What kind of organisation a funder is (docs/finance.md#several-funders)."""

    BANK = "bank"
    FACTORING = "factoring"  # a factoring company
    FINANCE_COMPANY = "finance_company"  # an industrial group's finance company


# The funder of the loaded book and of every record written before funders existed: a
# record without `funder_id` belongs to it (queries read `coalesce(x.funder_id, $default)`).
DEFAULT_FUNDER = "default"


class InvoiceStatus(StrEnum):
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    OVERDUE = "overdue"
    PAID = "paid"
    VOID = "void"


# Invoices still owed to their seller: receivables a financing may take.
INVOICE_OPEN: frozenset[InvoiceStatus] = frozenset(
    {InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE}
)


class ConfirmationOutcome(StrEnum):
    """A core enterprise's answer to a receivable it owes (确权), kept on the invoice (the
    latest) and as a Confirmation node (every answer, in order)."""

    CONFIRMED = "confirmed"  # the whole amount, payable on the confirmed due date
    PARTLY_CONFIRMED = "partly_confirmed"  # a smaller amount is acknowledged
    DISPUTED = "disputed"  # nothing is acknowledged


# Confirmations a voucher may draw on: the core's payable of `confirmed_minor`.
CONFIRMED_PAYABLE: frozenset[ConfirmationOutcome] = frozenset(
    {ConfirmationOutcome.CONFIRMED, ConfirmationOutcome.PARTLY_CONFIRMED}
)


class ContractStatus(StrEnum):
    ACTIVE = "active"  # signed and being performed: an open order
    FULFILLED = "fulfilled"
    TERMINATED = "terminated"


class AssetStatus(StrEnum):
    ACTIVE = "active"  # owned and in place: may be pledged
    SOLD = "sold"
    RELEASED = "released"


class VoucherStatus(StrEnum):
    LIVE = "live"
    SPLIT = "split"  # replaced by its pieces
    FINANCED = "financed"  # discounted with a funder, still the core's payable
    CLEARED = "cleared"  # paid by the core at maturity
    OVERDUE = "overdue"  # past maturity and not paid: still owed, cleared when the core pays


# Vouchers that are still the issuing core's open payable.
VOUCHER_OPEN: frozenset[VoucherStatus] = frozenset(
    {VoucherStatus.LIVE, VoucherStatus.FINANCED, VoucherStatus.OVERDUE}
)
# What the end-of-day job marks overdue once its maturity has passed unpaid.
VOUCHER_UNPAID_AT_MATURITY: frozenset[VoucherStatus] = frozenset(
    {VoucherStatus.LIVE, VoucherStatus.FINANCED}
)


class InterestKind(StrEnum):
    """What a registration in the registry of security interests records."""

    PLEDGE = "pledge"  # of a receivable, a warehouse receipt or movables
    TRANSFER = "transfer"  # of a receivable (factoring: the receivable is sold)


class InterestStatus(StrEnum):
    LIVE = "live"
    DISCHARGED = "discharged"


class EnterpriseStatus(StrEnum):
    ACTIVE = "active"
    LIQUIDATING = "liquidating"
    REVOKED = "revoked"
    CANCELLED = "cancelled"


class CreditLineStatus(StrEnum):
    ACTIVE = "active"
    FROZEN = "frozen"
    EXPIRED = "expired"


class CreditLineKind(StrEnum):
    GROUP = "group"  # split among the members of a group
    ENTERPRISE = "enterprise"  # an enterprise's own line
    SUPPLY_CHAIN = "supply_chain"  # a core's line shared down its tiers
    TIER = "tier"  # a sub-limit of a core's supply-chain line for the suppliers of one tier
    PRODUCT = "product"  # a per-product sub-limit


class RiskClass(StrEnum):
    """Five-tier loan classification (五级分类) by days past due."""

    NORMAL = "normal"
    SPECIAL_MENTION = "special_mention"
    SUBSTANDARD = "substandard"
    DOUBTFUL = "doubtful"
    LOSS = "loss"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class ProposalStatus(StrEnum):
    """A credit-line proposal (four eyes): made, then approved or rejected by another."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProposalAction(StrEnum):
    GRANT = "grant"  # a new line
    LIMIT = "limit"  # a line's new limit


class FraudTypology(StrEnum):
    """Fraud outcomes a case may carry: the generator's trade-fraud patterns and the
    anti-money-laundering typologies (fan-in, fan-out, ...); ``FRAUD`` when unspecified."""

    FRAUD = "fraud"
    RING = "ring"  # circular trade
    SHELL = "shell"
    FAKE_TRADE = "fake_trade"  # invoices without goods or payment
    FAN_IN = "fan_in"
    FAN_OUT = "fan_out"
    SCATTER_GATHER = "scatter_gather"
    GATHER_SCATTER = "gather_scatter"
    CYCLE = "cycle"
    BIPARTITE = "bipartite"
    STACK = "stack"


class CaseOutcome(StrEnum):
    """The non-fraud outcomes of a case (a fraud outcome is a ``FraudTypology`` value)."""

    DEFAULT = "default"
    CLEARED = "cleared"  # looked at and found innocent: a hard negative for the fraud model


# Every outcome a case may carry, in the order the cases file documents them.
CASE_OUTCOMES: tuple[str, ...] = (
    *(str(t) for t in FraudTypology), str(CaseOutcome.DEFAULT), str(CaseOutcome.CLEARED),
)


class DispositionKind(StrEnum):
    """What an analyst records on an alert or an enterprise (GraphQL ``recordDisposition``)."""

    CONFIRMED = "confirmed"  # the case's outcome is its typology (or default)
    FALSE_POSITIVE = "false_positive"  # outcome cleared
    UNDER_REVIEW = "under_review"  # no outcome yet: not a label


class RuleSetStatus(StrEnum):
    """A rule set version's life cycle: drafted (and simulated), published by another person
    with an effective time, retired. Content never changes once drafted."""

    DRAFT = "draft"
    CHALLENGER = "challenger"  # a draft run beside the version in force on a share of traffic
    PUBLISHED = "published"
    RETIRED = "retired"


class ProductVersionStatus(StrEnum):
    """A product version's life cycle (the product factory, docs/finance.md#the-product-
    factory): drafted, published by another person with an effective time, retired. Content
    never changes once drafted."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class DocumentOutcome(StrEnum):
    """What checking a document against the graph found (docs/documents.md)."""

    VERIFIED = "verified"  # every checked field read and equal to the graph's
    MISMATCH = "mismatch"  # a field read with confidence differs from the graph
    FORGED = "forged"  # a sign of forgery: wrong USCC check character, re-used invoice number
    NEEDS_REVIEW = "needs_review"  # a field needed for the check was not read with confidence
    UNMATCHED = "unmatched"  # nothing in the graph to check it against


class SignatureStatus(StrEnum):
    """A signed contract PDF checked by pyHanko's validator (docs/documents.md)."""

    VALID = "valid"  # every signature intact, valid, trusted, for this contract, unchanged
    INVALID = "invalid"  # anything else; the reason says what


class CaseSource(StrEnum):
    """Where a case came from: a loaded cases file keeps its own free-text ``source``;
    cases made by analysts through the API carry ``ANALYST``."""

    ANALYST = "analyst"


def values(statuses: Iterable[StrEnum]) -> list[str]:
    """A status set as a sorted list of strings, the form queries take as a parameter."""
    return sorted(str(s) for s in statuses)


# --------------------------------------------------------------------------------------
# Properties: every property each label's nodes may carry, declared once. The schema
# contract test (tests/graph/test_schema_contract.py) fails when Cypher in `graph/` names a
# property of a labelled node that is not declared here, and when a journey over a generated
# world draws a "property key does not exist" notification from Neo4j.
# --------------------------------------------------------------------------------------

_LOADED = ("source_file", "loaded_at")  # set by ingest on every node it writes
_LOCK = ("_v",)  # bumped to take a write lock first (see graph/queries/finance.py)

PROPERTIES: dict[Label, frozenset[str]] = {
    label: frozenset(("id", *props))
    for label, props in {
        Label.ENTERPRISE: (
            *_LOADED, *_LOCK, "name", "name_en", "aliases", "uscc", "uscc_valid", "uscc_problem",
            "legal_form", "region_code", "industry_code", "registered_capital", "currency",
            "founded_on", "status", "is_core", "is_branch", "entity_type", "source", "created_by",
            "bods_record_id", "fraud_score", "default_score", "score_explanation",
            "score_model_version", "scored_at",
        ),
        Label.PERSON: (*_LOADED, "name", "id_hash", "source", "bods_record_id", "birth_date",
                       "nationality", "address", "phone", "email"),
        Label.ADDRESS: (*_LOADED, "text", "region_code"),
        Label.PHONE: (*_LOADED, "number"),
        Label.CONTRACT: (
            *_LOADED, *_LOCK, "kind", "amount", "currency", "signed_on", "due_on", "status",
        ),
        Label.INVOICE: (
            *_LOADED, *_LOCK, "quantity", "amount", "tax", "currency", "issued_on", "due_on",
            "status", "confirmation", "confirmed_minor", "confirmed_due_on", "confirmed_at",
            "confirmed_by",
        ),
        Label.SHIPMENT: (*_LOADED, "quantity", "shipped_on", "received_on"),
        Label.PAYMENT: (*_LOADED, "amount", "currency", "paid_on"),
        Label.GOODS: (*_LOADED, "name", "hs_code", "category", "unit"),
        Label.WAREHOUSE: (*_LOADED, "name", "region_code", "geo"),
        Label.ASSET: (
            *_LOADED, *_LOCK, "kind", "quantity", "unit", "unit_value", "currency", "status",
            "value_minor", "value_currency", "valued_at", "valued_quantity", "state_at",
            "measured_quantity", "head_count", "weight_kg", "camera_count", "temperature",
            "humidity", "lat", "lon", "distance_m", "inside_geofence", "silent_sensors",
            "geofence_lat", "geofence_lon", "geofence_radius_m", "temp_min", "temp_max",
            "humidity_max",
        ),
        Label.SENSOR: (*_LOADED, "kind", "installed_on", "last_seen", "interval_s"),
        Label.SOURCE_RECORD: (
            *_LOADED, "source", "name", "name_en", "uscc", "uscc_valid", "legacy_org_code",
            "registration_no", "legal_form", "region_code", "address", "phone", "legal_rep",
            "country", "city", "aliases", "identifiers", "raw", "problems",
        ),
        Label.PRODUCT: ("name", "kind"),
        Label.CREDIT_LINE: (
            "kind", "currency", "limit_minor", "expires_on", "product_id", "tier", "status",
            "status_at", "status_reason", "created_at", "funder_id",
        ),
        Label.LINE_PROPOSAL: (
            *_LOCK, "action", "status", "line_id", "enterprise_id", "kind", "currency",
            "limit_minor", "expires_on", "parent_id", "product_id", "tier", "maker", "created_at",
            "checker", "note", "decided_at", "_new",
            "funder_id",  # whose book the line is (or goes) in
        ),
        Label.APPLICATION: (
            *_LOCK, "status", "enterprise_id", "product_id", "amount_minor", "currency",
            "collateral_ids", "maker", "maker_role", "created_at", "financing_id", "reasons",
            "decided_amount_minor", "rate_bps", "policy_version", "decided_at", "checker",
            "reviewed_at", "review_note", "conditions", "_new", "funder_id", "offer_of",
            "line_id", "accepted_by", "accepted_at", "lapsed_at",
            "product_version",  # the product version that decided it (product:<id>@<n>)
        ),
        Label.FINANCING: (
            *_LOADED, *_LOCK, "status", "origin", "lender", "product_kind", "product_id",
            "application_id", "borrower_id", "currency", "amount_minor", "outstanding_minor",
            "interest_due_minor", "rate_bps", "day_count", "line_id", "line_path", "start_on",
            "maturity_on", "accrued_through", "dpd", "risk_class", "provision_minor",
            "dpd_on", "dpd_values",  # days past due when they changed (end of day), in order
            "created_at", "approved_on", "penalty_pct", "penalty_accrued", "period_accrued",
            "period_principal", "period_start", "contract_no", "signed_on", "cancel_reason",
            "written_off_by", "written_off_minor", "written_off_on", "tenor_days", "conditions",
            "ltv_bps", "ltv_at", "closed_on", "funder_id",
            "contract_document_id", "contract_sha256",  # the signed contract signContract saw
            "product_version",  # the product version that priced it; servicing reads it
        ),
        Label.VOUCHER: (
            *_LOCK, "root_id", "core_id", "face_minor", "currency", "issued_on", "due_on",
            "status", "depth", "split_on", "line_id", "financed_holder_id", "financed_on",
            "discount_minor", "rate_bps", "cleared_on", "funder_id", "overdue_on",
            "line_funder_id",  # the funder whose line it occupies (`funder_id`: discounted by)
        ),
        Label.ACCOUNT: (
            *_LOCK, "code", "kind", "currency", "owner_id", "flags", "debits_pending",
            "debits_posted", "credits_pending", "credits_posted", "funder_id",
        ),
        Label.TRANSFER: (
            "kind", "debit_account_id", "credit_account_id", "amount", "currency", "code",
            "ref", "pending_id", "linked", "value_at", "created_at", "timeout_at", "status",
        ),
        Label.ALERT: (
            "kind", "scope", "severity", "status", "message", "evidence", "first_evidence_at",
            "raised_at", "created_at", "cleared_at", "acknowledged_at", "acknowledged_by",
            "acknowledged_note", "asset_id", "sensor_id", "financing_id", "ltv_at", "ltv_bps",
            "max_ltv_bps", "shortfall_minor", "_new", "voucher_id",
        ),
        Label.RELEASE_ORDER: ("quantity", "valid_from", "valid_to"),
        Label.FOLLOW_UP: (
            "kind", "financing_id", "on", "note", "outcome", "promised_minor", "promised_on",
            "recorded_by", "recorded_at", "_new",
        ),
        # Two kinds share the label: entity matches (`same`, `by`, `at`, the two records)
        # and credit decisions (`actor`, `verdict`, `decided_at`, ...).
        Label.DECISION: (
            "kind", "same", "by", "at", "record_a", "record_b", "note", "actor", "verdict",
            "reasons", "amount_minor", "rate_bps", "policy_version", "decided_at", "inputs",
            "funder_id", "conditions",
            # an automatic decision by a rule set: the rows that fired; with a challenger
            # running, the arm of the application and the challenger's verdict beside it
            "rules", "arm", "challenger_version", "challenger_verdict", "challenger_reasons",
            "challenger_rules", "challenger_amount_minor",
            # the product version the decision applied (product:<id>@<n>, or @shipped)
            "product_version",
        ),
        Label.CONFIRMATION: (
            "invoice_id", "core_id", "seq", "outcome", "amount_minor", "currency", "due_on",
            "note", "by", "at",
        ),
        Label.SECURITY_INTEREST: (
            *_LOCK, "kind", "status", "collateral_kind", "collateral_id", "debtor_id",
            "secured_party", "financing_id", "description", "registered_on", "expires_on",
            "registered_by", "registered_at", "discharged_on", "discharged_by", "discharged_at",
            "amendments",  # JSON, oldest first: {on, by, at, expires_on: [was, is], ...}
        ),
        Label.CASE: (
            *_LOADED, *_LOCK, "enterprise_id", "outcome", "decided_on", "source", "alert_id",
            "note", "disposition", "recorded_by", "recorded_at", "created_at",
        ),
        Label.DISPOSITION: (
            "case_id", "seq", "disposition", "outcome", "note", "by", "at",
        ),
        Label.SCORE: ("fraud_score", "default_score", "model_version", "scored_at"),
        Label.RULE_SET: (
            *_LOCK, "name", "version", "status", "content", "content_hash", "note", "author",
            "created_at", "publisher", "published_at", "effective_at", "retired_by",
            "retired_at", "retire_note",
            "challenger_share", "challenger_by", "challenger_at", "challenger_stopped_by",
            "challenger_stopped_at",
        ),
        Label.PRODUCT_VERSION: (
            *_LOCK, "product_id", "version", "status", "content", "content_hash", "note",
            "author", "created_at", "publisher", "published_at", "effective_at", "retired_by",
            "retired_at", "retire_note",
            "funder_id",  # the funder whose product it is (none: the platform's catalogue)
        ),
        Label.DOCUMENT: (
            "kind", "file_hash", "media_type", "size_bytes", "pages", "fields", "for_review",
            "outcome", "reasons", "invoice_key", "enterprise_id", "invoice_id", "uploaded_by",
            "uploaded_at", "ocr_seconds",
            # an invoice's four-flow check when it was read (JSON: score and the checks)
            "four_flow",
            # a contract for review (kind `contract`, documents/review.py): its text and how
            # it was read, the elements found, and the last review against an application
            # or financing (`review`: JSON of the elements, the expected and differences)
            "text", "text_method", "elements", "review", "review_summary", "reviewed_against",
            "reviewed_by", "reviewed_at",
            # a signed contract PDF (kind `signed_contract`) and its verification
            "contract_id", "signature_status", "signer", "signed_at", "signature_reason",
            "signatures",
            # a financing's contract (kind `financing_contract`): generated from the product's
            # templates (`templates`: id@version each), its PDF (`content`) as signed so far
            "financing_id", "templates", "content", "generated_hash", "generated_by",
            "generated_at", "signed_parties",
            "borrower_signed_by", "funder_signed_by",  # the user who had each party sign
        ),
        Label.FUNDER: ("name", "kind", "created_at", "created_by"),
        Label.USER: (
            "username", "password_hash", "roles", "disabled", "token_version", "created_at",
            "updated_at", "funder_id", "enterprise_id",
        ),
        Label.INGEST_BATCH: ("file", "batch_no", "rows", "folder_hash", "committed_at"),
        Label.AUDIT_EVENT: (
            "at", "username", "roles", "kind", "operation", "fields", "variables", "decision",
            "detail", "duration_ms", "correlation_id",
        ),
        Label.IDEMPOTENCY_KEY: (
            "owner", "mutation", "key", "request_id", "payload_hash", "result", "created_at",
            "completed_at", "process", "_new",
        ),
    }.items()
}  # fmt: skip

_PLEDGE = ("id", "pledged_on", *_LOADED)
REL_PROPERTIES: dict[Rel, frozenset[str]] = {
    rel: frozenset(props)
    for rel, props in {
        Rel.HOLDS: ("pct", "since", "source", "bods_record_id", *_LOADED),
        Rel.ROLE: ("kind", *_LOADED),
        Rel.GUARANTEES: ("id", "amount", "currency", "signed_on", "expires_on", *_LOADED),
        Rel.SUPPLIES: (
            "amount_12m", "invoices_12m", "amount_total", "invoices_total", "first_on",
            "last_on", "currency", "as_of",
        ),
        Rel.FOR: ("qty",),
        Rel.OF: ("qty",),
        Rel.PARTY: ("role",),
        Rel.INPUT_TO: _LOADED,
        Rel.PLEDGED_TO: _PLEDGE,
        Rel.ASSIGNED_TO: _PLEDGE,
        Rel.RESOLVES_TO: ("score", "method", "at", "explanation", "run_id"),
        Rel.SAME_AS: ("at", "explanation", "reason", "run_id"),
        Rel.BRANCH_OF: ("run_id",),
        Rel.HELD: ("seq", "from_on", "to_on", "how"),
        Rel.HELD_BY: ("since",),
        Rel.CONCERNS: _LOADED,
        Rel.ON_ALERT: _LOADED,
        Rel.WATCHES: ("since",),
        Rel.ATTACHED_TO: ("by", "at"),
    }.items()
}  # fmt: skip


def declared(label: Label, props: Mapping[str, Any]) -> dict[str, Any]:
    """``props`` unchanged when every key is declared for ``label``; raises otherwise. The
    finance writers pass their property maps through it (as followthemoney refuses an unknown
    property), so a misspelt name fails in the writer, not as a null in some reader."""
    unknown = set(props) - PROPERTIES[label]
    if unknown:
        from graph.errors import UndeclaredProperty

        raise UndeclaredProperty(f"{label} has no declared properties {sorted(unknown)}")
    return dict(props)
