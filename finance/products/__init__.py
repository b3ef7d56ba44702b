"""The product factory: products are declarative definitions, shipped as YAML in this folder
and versioned as data in the graph (`finance.products.factory`).

`load_products()` reads and validates every `*.yaml` here (the explicit registry is the
folder: one file per product): the shipped definitions, the first version of each product
(``product:<id>@shipped``). `get_product()` reads that shipped catalogue only, for pure code
with no driver; whatever decides, prices or services with a driver reads the version in force
(`in_force`, `catalogue`) or the version a record names (`recorded`). Eligibility rules compare
a named fact about the enterprise (see `finance.policy.EnterpriseFacts`) with a value and
carry the sentence a credit officer reads when the rule fails.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from finance.daycount import DayCount
from finance.errors import FinanceError, NotFound

HERE = Path(__file__).resolve().parent
SHIPPED = "shipped"  # the version of a definition shipped in this folder


def shipped_label(product_id: str) -> str:
    """The version label of a product's shipped definition."""
    return f"product:{product_id}@{SHIPPED}"


class ProductKind(StrEnum):
    FACTORING = "factoring"
    REVERSE_FACTORING = "reverse_factoring"
    RECEIVABLES_PLEDGE = "receivables_pledge"
    WAREHOUSE_RECEIPT_PLEDGE = "warehouse_receipt_pledge"
    MOVABLE_ASSET_PLEDGE = "movable_asset_pledge"
    ORDER_FINANCING = "order_financing"
    CONFIRMED_WAREHOUSE = "confirmed_warehouse"
    VOUCHER_DISCOUNTING = "voucher_discounting"


class Collateral(StrEnum):
    NONE = "none"
    INVOICE = "invoice"
    WAREHOUSE_RECEIPT = "warehouse_receipt"
    ASSET = "asset"
    ORDER = "order"
    VOUCHER = "voucher"


Op = Literal["==", "!=", "<", "<=", ">", ">=", "in", "not_in", "is_true", "is_false"]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fact: str
    op: Op
    value: Any = None
    reason: str  # said when the rule FAILS

    def holds(self, facts: dict[str, Any]) -> bool:
        x = facts.get(self.fact)
        if self.op == "is_true":
            return bool(x)
        if self.op == "is_false":
            return not x
        if x is None:
            return False
        match self.op:
            case "==":
                return bool(x == self.value)
            case "!=":
                return bool(x != self.value)
            case "<":
                return bool(x < self.value)
            case "<=":
                return bool(x <= self.value)
            case ">":
                return bool(x > self.value)
            case ">=":
                return bool(x >= self.value)
            case "in":
                return x in self.value
            case _:
                return x not in self.value


class Pricing(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    base_rate_bps: int
    spread_bps: int = 0
    spread_per_tier_bps: int = 0  # for each tier beyond the first
    spread_per_default_bps: int = 0  # times the default score (0..1)


class Fees(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    arrangement_bps: int = 0
    early_repayment_bps: int = 0


class Product(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    kind: ProductKind
    description: str
    recourse: bool
    collateral: Collateral
    line: Literal["own", "core"]  # whose credit line the financing occupies
    advance_rate_bps: int = Field(ge=0, le=10_000)
    max_ltv_bps: int | None = None  # margin call above this loan-to-value
    tenor_days: int = Field(ge=0)
    day_count: DayCount
    pricing: Pricing
    fees: Fees = Fees()
    penalty_rate_multiplier_pct: int = 150
    max_amount_minor: int
    eligibility: list[Rule] = []
    # Which version this is (product:<id>@<n>, or @shipped): set by the loaders, never part
    # of a definition's content.
    version: str = Field(default="", exclude=True)

    def failed_rules(self, facts: dict[str, Any]) -> list[Rule]:
        return [r for r in self.eligibility if not r.holds(facts)]


def load_product_file(path: Path) -> Product:
    try:
        product = Product.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        return product.model_copy(update={"version": shipped_label(product.id)})
    except (ValidationError, yaml.YAMLError) as e:
        raise FinanceError(f"product definition {path.name} is invalid: {e}") from e


@lru_cache(maxsize=4)
def load_products(folder: Path = HERE) -> dict[str, Product]:
    """Every product defined in `folder`, by id."""
    products = [load_product_file(p) for p in sorted(folder.glob("*.yaml"))]
    by_id = {p.id: p for p in products}
    if len(by_id) != len(products):
        raise FinanceError("two product definitions share an id")
    return by_id


def get_product(product_id: str) -> Product:
    """A shipped definition, for code with no driver: a published version is not seen here
    (see `in_force`)."""
    try:
        return load_products()[product_id]
    except KeyError as e:
        raise NotFound(f"no product {product_id!r}") from e


# The versions as data; imported last, as they build on the definitions above.
from finance.products.factory import catalogue, in_force, recorded  # noqa: E402

__all__ = [
    "SHIPPED", "Collateral", "Fees", "Pricing", "Product", "ProductKind", "Rule", "catalogue",
    "get_product", "in_force", "load_product_file", "load_products", "recorded",
    "shipped_label",
]  # fmt: skip
