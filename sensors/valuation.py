"""Collateral valuation: measured quantity times a price, and the hook finance listens on.

Finance registers an `OnValuation` callback (see docs/sensors.md); the engine calls it after
each valuation that changes an asset's value, and finance decides whether loan-to-value has
crossed its product's threshold and raises a margin call. Sensors never imports finance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import yaml

from chainlens.logs import get_logger
from sensors.model import AssetInfo

OnValuation = Callable[[str, int, str], None]
"""`on_valuation(asset_id, value_minor, currency)`: called once per changed valuation."""

log = get_logger(__name__)


def bind_hook(fn: Callable[..., Any], driver: Any, database: str) -> OnValuation:
    """An `OnValuation` from a domain function `fn(driver, database, asset_id, value_minor,
    currency)` (finance's `collateral.on_valuation`), bound by the entry point that owns the
    driver. A failing hook is logged, not raised: the readings are stored already, and one
    bad valuation must not stop the engine."""

    def hook(asset_id: str, value_minor: int, currency: str) -> None:
        try:
            fn(driver, database, asset_id, value_minor, currency)
        except Exception as e:
            log.error(
                "sensors.valuation.hook_failed",
                hook=getattr(fn, "__qualname__", repr(fn)),
                asset_id=asset_id,
                error=repr(e),
            )

    return hook


@dataclass(frozen=True, slots=True)
class Price:
    """Price of one `unit` of the goods, in minor units of `currency`."""

    unit_price_minor: int
    currency: str
    unit: str


@dataclass(frozen=True, slots=True)
class Valuation:
    asset_id: str
    quantity: Decimal
    unit: str
    value_minor: int
    currency: str
    as_of: datetime


class PriceTable:
    """Prices by goods id, else by asset kind; the asset's own `unit_value` is the fallback.

    Declarative so that a risk officer can read and change it: a YAML mapping
    `{goods: {G-CATTLE: {price_minor: 1200000, currency: CNY, unit: head}}, kinds: {...}}`.
    """

    def __init__(
        self,
        by_goods: Mapping[str, Price] | None = None,
        by_kind: Mapping[str, Price] | None = None,
    ) -> None:
        self.by_goods = dict(by_goods or {})
        self.by_kind = dict(by_kind or {})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PriceTable:
        def prices(section: Mapping[str, Any]) -> dict[str, Price]:
            return {
                k: Price(int(v["price_minor"]), str(v.get("currency", "CNY")), str(v["unit"]))
                for k, v in section.items()
            }

        return cls(prices(data.get("goods") or {}), prices(data.get("kinds") or {}))

    @classmethod
    def load(cls, path: Path) -> PriceTable:
        return cls.from_mapping(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def price_for(self, asset: AssetInfo) -> Price | None:
        if asset.goods_id is not None and asset.goods_id in self.by_goods:
            return self.by_goods[asset.goods_id]
        if asset.kind in self.by_kind:
            return self.by_kind[asset.kind]
        if asset.unit_value is not None:
            return Price(asset.unit_value, asset.currency, asset.unit)
        return None


_TO_BASE = {"kg": Decimal(1), "t": Decimal(1000), "g": Decimal("0.001")}


def convert(quantity: Decimal, unit: str, to_unit: str) -> Decimal:
    """Quantity in another mass unit; other units must match exactly."""
    if unit == to_unit:
        return quantity
    if unit in _TO_BASE and to_unit in _TO_BASE:
        return quantity * _TO_BASE[unit] / _TO_BASE[to_unit]
    raise ValueError(f"cannot convert {unit!r} to {to_unit!r}")


def value_of(quantity: Decimal, unit: str, price: Price) -> int:
    """Value in minor units, rounded half to even (banker's rounding, as the ledger does)."""
    qty = convert(quantity, unit, price.unit)
    return int((qty * price.unit_price_minor).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
