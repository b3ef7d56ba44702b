"""Prospects around a core enterprise: tier-2..5 firms with sustained trade on the path to the
core, no outstanding financing and acceptable risk scores, ranked, each with its reason.

"Sustained" means every link of the firm's heaviest path to the core traded at least
`min_invoices` times in the last 12 months, and the firm's own link has `min_months` of
history (first to last invoice). Missing `fraud_score` / `default_score` are neutral: they
neither disqualify nor rank a firm down. The rank is the 12-month volume on the firm's link,
weighted by history (capped at 24 months) and by one minus the worse of its two scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from neo4j import Driver

from graph.analytics import tiers
from graph.analytics._common import LIVE_FINANCING, check_range, read
from graph.errors import InvalidArgument
from graph.model import EnterpriseStatus, values
from graph.queries import analytics as q

MAX_PROSPECTS = 200


@dataclass(frozen=True, slots=True)
class Prospect:
    id: str
    name: str | None
    tier: int
    path: list[str]
    """From the prospect to the core along its heaviest links."""
    path_volumes: list[int]
    """12-month volume of each link of `path`."""
    volume_12m: int
    invoices_12m: int
    months_of_history: int
    fraud_score: float | None
    default_score: float | None
    rank_score: float
    reason: str


def _months(first: date | None, last: date | None) -> int:
    if first is None or last is None:
        return 0
    return max(0, (last.year - first.year) * 12 + last.month - first.month + 1)


def prospects(
    driver: Driver,
    database: str,
    core_id: str,
    direction: tiers.Direction | str = tiers.Direction.UPSTREAM,
    min_tier: int = 2,
    max_tier: int = tiers.MAX_DEPTH,
    min_invoices: int = 3,
    min_months: int = 6,
    max_fraud: float = 0.5,
    max_default: float = 0.5,
    first: int = 50,
) -> list[Prospect]:
    """Ranked prospects around `core_id` (suppliers by default), best first."""
    check_range("min_tier", min_tier, 1, tiers.MAX_DEPTH)
    check_range("max_tier", max_tier, min_tier, tiers.MAX_DEPTH)
    check_range("first", first, 1, MAX_PROSPECTS)
    for label, value in (("max_fraud", max_fraud), ("max_default", max_default)):
        if not 0 <= value <= 1:
            raise InvalidArgument(f"{label} must be between 0 and 1, got {value}")
    walk = tiers.tiers(driver, database, core_id, direction, max_tier)
    by_id = {f.id: f for f in walk.firms}
    candidates = []
    for firm in walk.firms:
        if firm.tier < min_tier:
            continue
        path = walk.path_to_focal(firm.id)
        links = [by_id[step].main_link for step in path[:-1]]
        if any(link.invoices_12m < min_invoices for link in links):
            continue
        own = firm.main_link
        months = _months(own.first_on, own.last_on)
        if months < min_months:
            continue
        candidates.append((firm, path, links, months))
    rows = read(driver, database, q.PROSPECT_FACTS, ids=[c[0].id for c in candidates],
                live=LIVE_FINANCING,
                inactive=values({EnterpriseStatus.REVOKED, EnterpriseStatus.CANCELLED,
                                 EnterpriseStatus.LIQUIDATING}))  # fmt: skip
    facts = {r["id"]: r for r in rows}
    found = []
    for firm, path, links, months in candidates:
        fact = facts.get(firm.id)
        if fact is None or fact["live_financings"] or fact["inactive"]:
            continue
        fraud, default = fact["fraud_score"], fact["default_score"]
        if fraud is not None and fraud > max_fraud:
            continue
        if default is not None and default > max_default:
            continue
        risk = max(x for x in (fraud, default, 0.0) if x is not None)
        own = firm.main_link
        rank = own.amount_12m * min(months, 24) / 24 * (1 - risk)
        scores = ", ".join(
            f"{n} {v:.2f}" for n, v in (("fraud", fraud), ("default", default)) if v is not None
        ) or "no risk scores yet (neutral)"
        reason = (
            f"tier-{firm.tier} {walk.direction.value} firm: {' -> '.join(path)}; "
            f"{own.amount_12m} traded with {own.counterparty_id} over 12 months in "
            f"{own.invoices_12m} invoices; {months} months of history; no outstanding "
            f"financing; {scores}"
        )
        found.append(Prospect(
            id=firm.id, name=firm.name, tier=firm.tier, path=path,
            path_volumes=[link.amount_12m for link in links], volume_12m=own.amount_12m,
            invoices_12m=own.invoices_12m, months_of_history=months, fraud_score=fraud,
            default_score=default, rank_score=rank, reason=reason,
        ))  # fmt: skip
    found.sort(key=lambda p: (-p.rank_score, p.id))
    return found[:first]
