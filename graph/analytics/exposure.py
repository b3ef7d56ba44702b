"""Aggregated exposure per controlling group and per core-enterprise chain: outstanding
financings, guarantees given outside the set and e-credit vouchers, ready for the finance
modules (limits per group, concentration per chain).

The firms and guarantees are the shared chain graph; the financings and vouchers are of one
funder's book when ``funder`` is given (a financing's `funder_id`, a voucher's
`line_funder_id`; without one, the default funder's), of every funder's when it is None."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver, ManagedTransaction

from graph.analytics import ownership, tiers
from graph.analytics._common import OUTSTANDING_FINANCING, check_range, read_tx, tx_rows
from graph.model import DEFAULT_FUNDER, VOUCHER_OPEN, values
from graph.queries.analytics import EXPOSURE_OF

# Voucher statuses that no longer expose anyone.
MAX_MEMBERS = 20_000


@dataclass(frozen=True, slots=True)
class MemberExposure:
    id: str
    name: str | None
    financings: int
    financed: int
    guarantees_given: int
    guarantees_received: int
    vouchers_issued: int
    vouchers_held: int

    @property
    def total(self) -> int:
        """Direct plus contingent exposure: outstanding financing and guarantees given."""
        return self.financed + self.guarantees_given


@dataclass(frozen=True, slots=True)
class Exposure:
    """Exposure of a set of firms; guarantees only count when they leave the set."""

    scope: str  # "group" or "chain"
    anchor_id: str
    members: list[MemberExposure]

    @property
    def financed(self) -> int:
        return sum(m.financed for m in self.members)

    @property
    def financings(self) -> int:
        return sum(m.financings for m in self.members)

    @property
    def guarantees_given(self) -> int:
        return sum(m.guarantees_given for m in self.members)

    @property
    def vouchers_issued(self) -> int:
        return sum(m.vouchers_issued for m in self.members)

    @property
    def vouchers_held(self) -> int:
        return sum(m.vouchers_held for m in self.members)

    @property
    def total(self) -> int:
        return sum(m.total for m in self.members)


def _exposure(
    tx: ManagedTransaction, ids: list[str], funder: str | None = None
) -> list[MemberExposure]:
    rows = tx_rows(tx, EXPOSURE_OF, ids=ids, outstanding=OUTSTANDING_FINANCING,
                   open_vouchers=values(VOUCHER_OPEN), funder=funder,
                   default=DEFAULT_FUNDER)  # fmt: skip
    members = [
        MemberExposure(
            id=r["id"], name=r["name"], financings=int(r["financings"]),
            financed=int(r["financed"]), guarantees_given=int(r["guarantees_given"]),
            guarantees_received=int(r["guarantees_received"]),
            vouchers_issued=int(r["vouchers_issued"]), vouchers_held=int(r["vouchers_held"]),
        )
        for r in rows
    ]
    members.sort(key=lambda m: (-m.total, m.id))
    return members


def group_exposure(
    driver: Driver, database: str, enterprise_id: str, funder: str | None = None
) -> Exposure:
    """Exposure of the whole group `enterprise_id` belongs to (all firms under its actual
    controller, the controller included when it is an enterprise). One read transaction: the
    group and its exposure come from one snapshot, in one session."""

    def work(tx: ManagedTransaction) -> Exposure:
        group = ownership.group_of_in(tx, enterprise_id)
        ids = {m.id for m in group.members} | {enterprise_id}
        if group.controller_kind is ownership.HolderKind.ENTERPRISE:
            ids.add(group.controller_id)
        return Exposure("group", group.controller_id, _exposure(tx, sorted(ids), funder))

    return read_tx(driver, database, work)


def chain_exposure(
    driver: Driver, database: str, core_id: str, up: int = tiers.MAX_DEPTH, down: int = 3,
    funder: str | None = None,
) -> Exposure:
    """Exposure of a core enterprise's chain: the core and its `up` + `down` tiers."""
    check_range("up", up, 1, tiers.MAX_DEPTH)
    check_range("down", down, 1, tiers.MAX_DEPTH)
    view = tiers.chain_view(driver, database, core_id, up, down)
    ids = {core_id} | {f.id for f in view.upstream.firms} | {f.id for f in view.downstream.firms}
    if len(ids) > MAX_MEMBERS:
        ids = set(sorted(ids)[:MAX_MEMBERS])
    return Exposure("chain", core_id,
                    read_tx(driver, database,
                            lambda tx: _exposure(tx, sorted(ids), funder)))  # fmt: skip
