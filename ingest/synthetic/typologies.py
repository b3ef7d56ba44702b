"""Anti-money-laundering typologies planted in the industrial-chain world, and their look-alikes.

Opt-in (``generate(..., typologies=Typologies())``, ``chainlens generate --typologies``). Each
laundering transfer is a service or goods invoice and its payment (the ingest format needs an
invoice behind every payment), paid within a day or two of issue. The seven typologies of the
AML literature (IBM AML, NeurIPS 2023; Egressy et al., AAAI 2024), in firm-to-firm payments:

- ``fan_in``: k sources pay one hub within a burst of days; the hub passes the sum on to an exit.
- ``fan_out``: an entry pays a hub; the hub pays k destinations within a burst.
- ``scatter_gather``: a source pays k intermediates, each passes it on to one sink within hours.
- ``gather_scatter``: k sources pay a hub in a burst, the hub pays m destinations.
- ``cycle``: k firms pass money around a directed cycle, each within hours of receiving it.
- ``bipartite``: a set of payers pays a set of payees, most pairs once, in a burst.
- ``stack``: three layers of firms, every firm of a layer paying every firm of the next.

Amounts: a share of transfers is structured just below the large-value reporting threshold
(``REPORTING_THRESHOLD``, CNY 2 million between legal persons); pass-through keeps a fee.

Benign look-alikes raise the same alerts and are not laundering (hard negatives):

- ``settlement_run`` (looks like fan-out): a core firm pays many of its suppliers on one day.
- ``distributor_collection`` (fan-in): a downstream firm collects from many buyers in days.
- ``treasury_sweep`` (gather-scatter, cycle): a group's subsidiaries sweep cash to the parent,
  which sends it back days later, on intragroup service invoices.
- ``invoice_cap_split`` (structuring): a seller splits a large order into several invoices just
  below the invoice face-value cap, all on one day, goods shipped.

Every setting is drawn per seed from a range (:class:`Typologies` holds the ranges,
:class:`TypologyParams` the draw), so no model can learn one setting. All draws come from a
random stream of their own: a world generated with typologies has the same firms and trade as
one without, plus the planted payments. The truth: ``typologies.jsonl`` (one instance a row),
``typology_members.csv`` (each member's typology and role), ``typology_look_alikes.jsonl`` and
``typology_params.json``.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.synthetic.plan import HISTORY_MONTHS

if TYPE_CHECKING:
    from ingest.synthetic.generator import _Generator

TYPOLOGIES = (
    "fan_in",
    "fan_out",
    "scatter_gather",
    "gather_scatter",
    "cycle",
    "bipartite",
    "stack",
)
LOOK_ALIKES = ("settlement_run", "distributor_collection", "treasury_sweep", "invoice_cap_split")
# Large-value transfers between legal persons are reported from CNY 2 million (PBoC order
# 2016 No. 3); money in fen.
REPORTING_THRESHOLD = 2_000_000_00
SERVICE_TAX_BP = 600  # VAT on services


Range = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Typologies:
    """The ranges each world's settings are drawn from (docs/generator.md)."""

    member_share: Range = (0.03, 0.06)  # of all firms, members of some typology
    look_alike_share: Range = (0.02, 0.04)  # of all firms, members of some look-alike
    fan_k: tuple[int, int] = (5, 14)  # spokes of a fan, sources/destinations
    layer_width: tuple[int, int] = (2, 4)  # per layer of a stack, per side of a bipartite
    cycle_len: tuple[int, int] = (3, 7)
    burst_days: tuple[int, int] = (1, 10)  # window of a fan's payments (upper end per world)
    pass_days: tuple[int, int] = (0, 2)  # from money in to money out (within hours: 0-1)
    structured_share: Range = (0.3, 0.9)  # of transfers just below the reporting threshold
    structured_floor: Range = (0.75, 0.92)  # lowest structured amount, share of the threshold
    goods_share: Range = (0.7, 1.0)  # of transfers invoiced as goods (not services)
    shipped_share: Range = (0.7, 1.0)  # of goods invoices with a faked shipment record
    lead_days: tuple[int, int] = (0, 60)  # invoice issued this long before it is paid
    fee: Range = (0.005, 0.03)  # kept by each pass-through firm
    repeats: tuple[int, int] = (1, 3)  # times an instance runs its scheme


@dataclass(frozen=True, slots=True)
class TypologyParams:
    """One world's draw from :class:`Typologies` (written to ``typology_params.json``)."""

    member_share: float
    look_alike_share: float
    fan_k: tuple[int, int]
    layer_width: tuple[int, int]
    cycle_len: tuple[int, int]
    burst_days: int
    pass_days: int
    structured_share: float
    structured_floor: float
    goods_share: float
    shipped_share: float
    lead_days: tuple[int, int]
    fee: float
    repeats: int
    mix: dict[str, float]  # relative frequency of each typology


def draw_params(cfg: Typologies, r: random.Random) -> TypologyParams:
    def u(rng: Range) -> float:
        return round(r.uniform(*rng), 4)

    lo_k = r.randint(cfg.fan_k[0], (cfg.fan_k[0] + cfg.fan_k[1]) // 2)
    lead_lo = r.randint(cfg.lead_days[0], (cfg.lead_days[0] + cfg.lead_days[1]) // 3)
    weights = {t: round(r.uniform(0.5, 1.5), 3) for t in TYPOLOGIES}
    return TypologyParams(
        member_share=u(cfg.member_share),
        look_alike_share=u(cfg.look_alike_share),
        fan_k=(lo_k, r.randint(lo_k + 1, cfg.fan_k[1])),
        layer_width=cfg.layer_width,
        cycle_len=cfg.cycle_len,
        burst_days=r.randint(max(1, cfg.burst_days[0]), cfg.burst_days[1]),
        pass_days=r.randint(*cfg.pass_days),
        structured_share=u(cfg.structured_share),
        structured_floor=u(cfg.structured_floor),
        goods_share=u(cfg.goods_share),
        shipped_share=u(cfg.shipped_share),
        lead_days=(lead_lo, r.randint(lead_lo + 5, max(lead_lo + 5, cfg.lead_days[1]))),
        fee=u(cfg.fee),
        repeats=r.randint(*cfg.repeats),
        mix=weights,
    )


@dataclass(slots=True)
class Instance:
    id: str
    kind: str  # a typology or a look-alike
    members: list[int]
    roles: list[str]
    invoice_ids: list[str] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    first_day: int = 0
    last_day: int = 0


class _Planter:
    """Writes one world's instances through the generator's sinks and counters."""

    def __init__(self, gen: _Generator, cfg: Typologies) -> None:
        self.g = gen
        self.r = random.Random(f"typologies-{gen.seed}")
        self.p = draw_params(cfg, self.r)
        plan = gen.plan
        dm = gen.health.default_month
        alive = (dm < 0) | (dm >= HISTORY_MONTHS)
        self.free = np.asarray(alive & ~plan.is_shell & ~gen.used, dtype=bool)
        self.start = gen.cal.month_start[6]
        self.end = gen.as_of - 5
        # A firm's usual invoice (fen): what it could plausibly move without standing out.
        size = np.zeros(gen.n)
        np.maximum.at(size, plan.e_seller, plan.e_value)
        np.maximum.at(size, plan.e_buyer, plan.e_value)
        self.size = np.where(size > 0, size, np.median(plan.e_value)).tolist()

    # -- members ---------------------------------------------------------------------------
    def take(self, k: int, pool: list[int] | None = None) -> list[int] | None:
        r = self.r
        cand = pool if pool is not None else np.flatnonzero(self.free).tolist()
        cand = [i for i in cand if self.free[i]]
        if len(cand) < k:
            return None
        out = r.sample(cand, k)
        self.free[out] = False
        return out

    # -- one transfer ----------------------------------------------------------------------
    def amount(
        self, payer: int, base: int | None = None, structured: bool | None = None
    ) -> int:
        """Just below the threshold (structured, for firms whose usual invoices reach a fifth
        of it), else ``base``, else about the payer's usual invoice."""
        r, p = self.r, self.p
        if structured is None:
            structured = (
                r.random() < p.structured_share and self.size[payer] > 0.2 * REPORTING_THRESHOLD
            )
        if structured:
            return int(REPORTING_THRESHOLD * r.uniform(p.structured_floor, 0.995)) // 100 * 100
        if base is not None:
            return base
        return max(100_00, int(self.size[payer] * r.lognormvariate(0.0, 0.5)) // 100 * 100)

    def transfer(
        self,
        inst: Instance,
        payer: int,
        payee: int,
        gross: int,
        day: int,
        *,
        goods: bool | None = None,
        shipped: bool | None = None,
        lead: int | None = None,
    ) -> int:
        """Payment of ``gross`` (tax included) from ``payer`` to ``payee`` on ``day`` (kept in
        the planting window), against an invoice ``payee -> payer`` issued ``lead`` days before
        (drawn from the world's ``lead_days`` when None); returns the day paid."""
        g, r, p = self.g, self.r, self.p
        paid_on = min(max(day, self.start), self.end)
        day = paid_on - (r.randint(*p.lead_days) if lead is None else lead)
        as_goods = (r.random() < p.goods_share) if goods is None else goods
        item = g._goods_of(payee) if as_goods else None
        tax_bp = item.tax_bp if item else SERVICE_TAX_BP
        net = gross * 10_000 // (10_000 + tax_bp)
        tax = gross - net
        qty = ""
        if item is not None:
            from ingest.synthetic.writer import decimal_str

            qty = decimal_str(max(net / item.price, 10.0**-item.decimals), item.decimals)
        g.inv_no += 1
        inv_id = f"INV{g.inv_no:09d}"
        g.w.sink("invoices").write([inv_id, g.eid(payee), g.eid(payer), "",
                                    item.id if item else "", qty, net, tax, "CNY",
                                    g.iso(day), g.iso(day + 30), "paid"])  # fmt: skip
        ship = item is not None and ((r.random() < p.shipped_share) if shipped is None else shipped)
        if ship and item is not None:
            g.ship_no += 1
            sent = day - r.randint(0, 3)
            got = sent + r.randint(1, 5)
            g.w.sink("shipments").write(
                [
                    f"SHP{g.ship_no:09d}",
                    "",
                    inv_id,
                    item.id,
                    g.eid(payee),
                    g.eid(payer),
                    qty,
                    g.iso(sent),
                    g.iso(got) if got <= g.as_of else "",
                    "",
                ]
            )
        g.pay_no += 1
        pay_id = f"PAY{g.pay_no:09d}"
        g.w.sink("payments").write([pay_id, inv_id, g.eid(payer), g.eid(payee), gross, "CNY",
                                    g.iso(paid_on)])  # fmt: skip
        inst.invoice_ids.append(inv_id)
        inst.payment_ids.append(pay_id)
        inst.first_day = min(inst.first_day or paid_on, paid_on)
        inst.last_day = max(inst.last_day, paid_on)
        return paid_on

    def day0(self) -> int:
        return self.r.randint(self.start, self.end - 30)

    def burst(self, d: int) -> int:
        return d + self.r.randint(0, max(0, self.p.burst_days - 1))

    def passing(self, d: int) -> int:
        return d + self.r.randint(0, self.p.pass_days)

    def fee(self, amount: int) -> int:
        return int(amount * (1 - self.p.fee * self.r.uniform(0.5, 1.5))) // 100 * 100

    def k(self) -> int:
        return self.r.randint(*self.p.fan_k)

    # -- typologies ------------------------------------------------------------------------
    def plant(self, kind: str, no: int) -> Instance | None:
        r = self.r
        p = self.p
        if kind in ("fan_in", "fan_out"):
            k = self.k()
            m = self.take(k + 2)
            if m is None:
                return None
            hub, end, spokes = m[0], m[1], m[2:]
            roles = ["hub", "exit" if kind == "fan_in" else "entry"] + ["spoke"] * k
            inst = Instance(f"TYP-{no:05d}", kind, m, roles)
            for _ in range(p.repeats):
                d = self.day0()
                if kind == "fan_in":
                    last, total = d, 0
                    for s in spokes:
                        a = self.amount(s)
                        last = max(last, self.transfer(inst, s, hub, a, self.burst(d)))
                        total += a
                    self.transfer(inst, hub, end, self.fee(total), self.passing(last))
                else:
                    amounts = [self.amount(hub) for _ in spokes]
                    got = self.transfer(inst, end, hub, sum(amounts) + sum(amounts) // 50, d)
                    for s, a in zip(spokes, amounts, strict=True):
                        self.transfer(inst, hub, s, a, self.passing(got) + self.burst(0))
            return inst
        if kind == "scatter_gather":
            k = self.k()
            m = self.take(k + 2)
            if m is None:
                return None
            src, sink, mids = m[0], m[1], m[2:]
            inst = Instance(f"TYP-{no:05d}", kind, m, ["source", "sink"] + ["intermediate"] * k)
            for _ in range(p.repeats):
                d = self.day0()
                for mid in mids:
                    a = self.amount(src)
                    got = self.transfer(inst, src, mid, a, self.burst(d))
                    self.transfer(inst, mid, sink, self.fee(a), self.passing(got))
            return inst
        if kind == "gather_scatter":
            k1, k2 = self.k(), self.k()
            m = self.take(k1 + k2 + 1)
            if m is None:
                return None
            hub, ins, outs = m[0], m[1 : 1 + k1], m[1 + k1 :]
            inst = Instance(
                f"TYP-{no:05d}", kind, m, ["hub"] + ["source"] * k1 + ["destination"] * k2
            )
            for _ in range(p.repeats):
                d = self.day0()
                total, last = 0, d
                for s in ins:
                    a = self.amount(s)
                    total += a
                    last = max(last, self.transfer(inst, s, hub, a, self.burst(d)))
                share = self.fee(total) // k2
                for t in outs:
                    self.transfer(
                        inst, hub, t, self.amount(hub, share), self.passing(last) + self.burst(0)
                    )
            return inst
        if kind == "cycle":
            k = r.randint(*p.cycle_len)
            m = self.take(k)
            if m is None:
                return None
            inst = Instance(f"TYP-{no:05d}", kind, m, ["member"] * k)
            for _ in range(p.repeats):
                d = self.day0()
                a = self.amount(m[0])
                for j in range(k):
                    d = self.passing(self.transfer(inst, m[j], m[(j + 1) % k], a, d))
                    a = self.fee(a)
            return inst
        if kind == "bipartite":
            a_n, b_n = r.randint(*p.layer_width) + 1, r.randint(*p.layer_width) + 1
            m = self.take(a_n + b_n)
            if m is None:
                return None
            left, right = m[:a_n], m[a_n:]
            inst = Instance(f"TYP-{no:05d}", kind, m, ["payer"] * a_n + ["payee"] * b_n)
            for _ in range(p.repeats):
                d = self.day0()
                for s in left:
                    for t in right:
                        if r.random() < 0.85:
                            self.transfer(inst, s, t, self.amount(s), self.burst(d))
            return inst
        if kind == "stack":
            widths = [r.randint(*p.layer_width) for _ in range(3)]
            m = self.take(sum(widths))
            if m is None:
                return None
            layers = [m[: widths[0]], m[widths[0] : widths[0] + widths[1]],
                      m[widths[0] + widths[1] :]]  # fmt: skip
            inst = Instance(
                f"TYP-{no:05d}",
                kind,
                m,
                [f"layer{j + 1}" for j, w in enumerate(widths) for _ in range(w)],
            )
            for _ in range(p.repeats):
                d = self.day0()
                for lay in range(2):
                    last = d
                    for s in layers[lay]:
                        for t in layers[lay + 1]:
                            last = max(
                                last, self.transfer(inst, s, t, self.amount(s), self.burst(d))
                            )
                    d = self.passing(last)
            return inst
        raise ValueError(kind)

    # -- look-alikes -----------------------------------------------------------------------
    def look_alike(self, kind: str, no: int) -> Instance | None:
        g, r = self.g, self.r
        plan = g.plan
        lid = f"LAL-{no:05d}"
        if kind == "settlement_run":
            cores = [i for i in np.flatnonzero(plan.is_core).tolist() if self.free[i]]
            if not cores:
                return None
            core = r.choice(cores)
            sup = [int(s) for s in plan.e_seller[plan.e_buyer == core].tolist()]
            k = min(len(sup), self.k())
            spokes = self.take(k, sup) if k >= 3 else None
            if spokes is None:
                return None
            self.free[core] = False
            inst = Instance(lid, kind, [core, *spokes], ["payer"] + ["supplier"] * k)
            for _ in range(r.randint(1, 3)):
                d = self.day0()
                for s in spokes:
                    self.transfer(
                        inst,
                        core,
                        s,
                        self.amount(core, structured=r.random() < 0.2),
                        d,
                        goods=True,
                        shipped=True,
                        lead=45,
                    )
            return inst
        if kind == "distributor_collection":
            down = [i for i in np.flatnonzero(self.free).tolist()
                    if plan.flow[i] > 5 and not plan.is_core[i]]  # fmt: skip
            if not down:
                return None
            hub = r.choice(down)
            self.free[hub] = False
            k = self.k()
            buyers = self.take(k)
            if buyers is None:
                return None
            inst = Instance(lid, kind, [hub, *buyers], ["collector"] + ["buyer"] * k)
            for _ in range(r.randint(1, 3)):
                d = self.day0()
                for b in buyers:
                    day = self.burst(d)
                    self.transfer(
                        inst,
                        b,
                        hub,
                        self.amount(b, structured=r.random() < 0.2),
                        day,
                        goods=True,
                        shipped=True,
                        lead=30,
                    )
            return inst
        if kind == "treasury_sweep":
            parents = [int(p) for p in np.unique(plan.parent[plan.parent >= 0]).tolist()
                       if self.free[int(p)]]  # fmt: skip
            r.shuffle(parents)
            for par in parents[:20]:
                subs = [int(s) for s in np.flatnonzero(plan.parent == par).tolist()
                        if self.free[s]]  # fmt: skip
                if len(subs) >= 2:
                    break
            else:
                return None
            subs = subs[: self.k()]
            self.free[[par, *subs]] = False
            inst = Instance(lid, kind, [par, *subs], ["parent"] + ["subsidiary"] * len(subs))
            for _ in range(r.randint(2, 4)):
                d = self.day0()
                for s in subs:
                    a = self.amount(s, structured=r.random() < 0.2)
                    got = self.transfer(inst, s, par, a, d, goods=False, lead=r.randint(0, 1))
                    back = got + r.randint(1, 7)
                    self.transfer(inst, par, s, a, back, goods=False, lead=r.randint(0, 1))
            return inst
        if kind == "invoice_cap_split":
            m = self.take(2)
            if m is None:
                return None
            seller, buyer = m
            inst = Instance(lid, kind, m, ["seller", "buyer"])
            for _ in range(r.randint(1, 3)):
                d = self.day0()
                for _ in range(r.randint(3, 8)):
                    late = r.randint(0, 3)  # one invoice day, paid over a few days
                    self.transfer(
                        inst,
                        buyer,
                        seller,
                        self.amount(buyer, structured=True),
                        d + late,
                        goods=True,
                        shipped=True,
                        lead=20 + late,
                    )
            return inst
        raise ValueError(kind)


def plant(
    gen: _Generator, cfg: Typologies
) -> tuple[TypologyParams, list[Instance], list[Instance]]:
    """Plant one world's typologies and look-alikes through ``gen``'s sinks."""
    planter = _Planter(gen, cfg)
    p, r = planter.p, planter.r
    kinds = list(TYPOLOGIES)
    weights = [p.mix[t] for t in kinds]
    wanted = round(p.member_share * gen.n)
    found: list[Instance] = []
    members = 0
    tries = 0
    while members < wanted and tries < 10 * max(wanted, 1):
        tries += 1
        # Each typology at least once where the world is big enough, then by the drawn mix.
        kind = kinds[len(found)] if len(found) < len(kinds) else r.choices(kinds, weights)[0]
        inst = planter.plant(kind, len(found) + 1)
        if inst is None:
            break
        found.append(inst)
        members += len(inst.members)
    alikes: list[Instance] = []
    wanted_la = round(p.look_alike_share * gen.n)
    members = 0
    tries = 0
    while members < wanted_la and tries < 50:
        tries += 1
        inst = planter.look_alike(LOOK_ALIKES[len(alikes) % len(LOOK_ALIKES)], len(alikes) + 1)
        if inst is None:
            continue
        alikes.append(inst)
        members += len(inst.members)
    return p, found, alikes


def truth_rows(inst: Instance, gen: _Generator) -> dict[str, Any]:
    key = "typology" if inst.kind in TYPOLOGIES else "kind"
    return {
        "id": inst.id,
        key: inst.kind,
        "members": [gen.eid(m) for m in inst.members],
        "roles": inst.roles,
        "first_day": gen.iso(inst.first_day),
        "last_day": gen.iso(inst.last_day),
        "invoice_ids": inst.invoice_ids,
        "payment_ids": inst.payment_ids,
    }


def params_dict(p: TypologyParams) -> dict[str, Any]:
    return asdict(p)
