"""Product matching: which products fit an enterprise, on what indicative terms, and why.

Every product's eligibility rules run against the enterprise's graph facts; for those that
pass, the credit policy sizes and prices an indicative offer on the collateral the
enterprise has (its open receivables, warehouse receipts, movable assets, orders or
vouchers). Eligible products are ranked: those the policy would approve automatically
first, then by amount (larger first) and rate (lower first).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

from neo4j import Driver

from finance.policy import EnterpriseFacts, Evaluator, Verdict, evaluate, read_facts
from finance.products import Collateral, Product, catalogue, load_products
from graph.model import DEFAULT_FUNDER
from graph.queries import finance as q


@dataclass(frozen=True)
class ProductMatch:
    product_id: str
    product_name: str
    kind: str
    eligible: bool
    verdict: str  # approve, refer (a person will look), decline
    amount_minor: int
    rate_bps: int
    tenor_days: int
    currency: str
    reasons: list[str]
    # What the offer was sized on, to pledge or assign when applying (`with_collateral`).
    collateral_ids: tuple[str, ...] = ()
    product_version: str = ""  # the version of the product matched (product:<id>@<n>)


def collateral_available(product: Product, facts: EnterpriseFacts) -> int:
    """What the enterprise could pledge or assign for this product, by the graph."""
    return {
        Collateral.NONE: 0,
        Collateral.INVOICE: facts.receivables_minor,
        Collateral.WAREHOUSE_RECEIPT: facts.warehouse_receipts_value_minor,
        Collateral.ASSET: facts.movable_assets_value_minor,
        Collateral.ORDER: facts.open_orders_minor,
        Collateral.VOUCHER: facts.vouchers_held_minor,
    }[product.collateral]


def match_for_facts(
    facts: EnterpriseFacts, currency: str = "CNY", evaluator: Evaluator = evaluate,
    products: Mapping[str, Product] | None = None,
) -> list[ProductMatch]:  # fmt: skip
    """Every product of ``products`` (the shipped catalogue when not given) on ``facts``."""
    matches: list[ProductMatch] = []
    for product in (load_products() if products is None else products).values():
        failed = product.failed_rules(facts.as_dict())
        if failed:
            matches.append(
                ProductMatch(
                    product.id,
                    product.name,
                    product.kind.value,
                    False,
                    Verdict.DECLINE.value,
                    0,
                    0,
                    product.tenor_days,
                    currency,
                    [f"{facts.name} {r.reason}" for r in failed],
                    product_version=product.version,
                )
            )
            continue
        value = collateral_available(product, facts)
        ask = min(product.max_amount_minor, value) if value else product.max_amount_minor
        outcome = evaluator(product, facts, ask, value)
        matches.append(
            ProductMatch(
                product.id,
                product.name,
                product.kind.value,
                outcome.verdict != Verdict.DECLINE,
                outcome.verdict.value,
                outcome.amount_minor,
                outcome.rate_bps,
                outcome.tenor_days,
                currency,
                outcome.reasons,
                product_version=product.version,
            )
        )
    order = {Verdict.APPROVE.value: 0, Verdict.REFER.value: 1, Verdict.DECLINE.value: 2}
    matches.sort(key=lambda m: (order[m.verdict], -m.amount_minor, m.rate_bps, m.product_id))
    return matches


def match_products(
    driver: Driver,
    database: str,
    enterprise_id: str,
    currency: str = "CNY",
    include_ineligible: bool = False,
    today: date | None = None,
    evaluator: Evaluator = evaluate,
    funder: str = DEFAULT_FUNDER,
) -> list[ProductMatch]:
    """Eligible products for an enterprise, best first, with indicative terms and reasons
    (with `include_ineligible`, the others follow with the rules they fail); the lines
    weighed are ``funder``'s; each product (the platform's and ``funder``'s own) at its
    version in force now."""
    facts = read_facts(driver, database, enterprise_id, currency, today, funder)
    products = catalogue(driver, database, funder=funder)
    matches = match_for_facts(facts, currency, evaluator, products)
    chosen = matches if include_ineligible else [m for m in matches if m.eligible]
    return with_collateral(chosen, q.pledgeable(driver, database, enterprise_id), products)


def with_collateral(
    matches: list[ProductMatch], pledgeable: dict[str, list[str]],
    products: Mapping[str, Product] | None = None,
) -> list[ProductMatch]:  # fmt: skip
    """Each eligible match with the ids of the enterprise's collateral of its product's
    kind (what `collateral_available` summed), so that an application can name them."""
    products = load_products() if products is None else products
    return [
        replace(m, collateral_ids=tuple(pledgeable.get(products[m.product_id].collateral, ())))
        if m.eligible else m
        for m in matches
    ]
