"""`generate`: a synthetic industrial-chain economy in the ingest format, with ground truth.

Stages run in a fixed order on two random sources seeded from the seed (``random.Random`` for
per-row draws, ``numpy.random.Generator`` for arrays), so a seed always gives the same bytes.
Data files go to ``OUT/data`` (the format of docs/ingest-format.md plus ``manifest.json``), the
ground truth to ``OUT/truth`` (docs/generator.md).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import opencc

from entity_resolution.uscc import make_uscc
from ingest.errors import IngestError
from ingest.synthetic import names as nm
from ingest.synthetic.chains import CHAINS, CORE_FLOW, FLOW_POSITIONS, GOODS, GOODS_BY_ID, Goods
from ingest.synthetic.contagion import Health, simulate_health
from ingest.synthetic.patterns import (
    EquityCycle,
    Ring,
    ShellCluster,
    Twin,
    choose_equity_cycles,
    choose_guarantee_circles,
    choose_rings,
    choose_twins,
    regular_pool,
    shell_cluster_sizes,
)
from ingest.synthetic.plan import (
    HISTORY_MONTHS,
    Calendar,
    Plan,
    as_of_for_seed,
    plan_enterprises,
    plan_guarantees,
    plan_parents,
    plan_trade,
)
from ingest.synthetic.records import FirmFacts, RecordIds, dirty_records
from ingest.synthetic.regions import REGIONS, ROADS
from ingest.synthetic.typologies import Typologies
from ingest.synthetic.writer import CsvSink, DataWriter, decimal_str, pct_str

Progress = Callable[[str, int, int], None]

GENERATOR = "chainlens 0.1.0"
MIN_ENTERPRISES = 200
LENDERS = (
    "中国农业银行", "中国工商银行", "中国建设银行", "中国银行", "交通银行", "招商银行",
    "兴业银行", "浙商银行", "内蒙古银行", "宁波银行", "平安银行", "中信银行",
    "中企云链商业保理有限公司", "联易融商业保理有限公司",
)
_SHELL_WORDS = (("商贸", "Trading"), ("贸易", "Trading"), ("供应链管理", "Supply Chain Management"),
                ("科技", "Technology"), ("实业", "Industrial"))


@dataclass(frozen=True, slots=True)
class GenerationSummary:
    """What was written: rows per data file and per truth file, and how long it took."""

    out_dir: Path
    seed: int
    enterprises: int
    as_of: date
    counts: dict[str, int]
    truth_counts: dict[str, int]
    elapsed_s: float


@dataclass(frozen=True, slots=True)
class TradeNoise:
    """Paperwork that does not match the goods (off by default; docs/generator.md).

    Genuine sellers whose logistics are not digitised leave some invoices without a shipment
    record, and some rings and shell clusters fake shipments for their invoices, so that
    "sold without a shipment" is neither necessary nor sufficient for fraud. Its draws come
    from a random stream of their own: a folder generated with noise has the same firms,
    invoices and payments as one generated without, and differs only in shipments.
    """

    undocumented_sellers: float = 0.05  # genuine sellers with logistics gaps
    undocumented_share: tuple[float, float] = (0.2, 0.6)  # of such a seller's invoices
    shipped_rings: float = 0.5  # rings that fake a shipment for every leg
    shipped_shells: float = 0.3  # shell clusters that do the same


def generate(
    out_dir: Path,
    enterprises: int,
    seed: int,
    progress: Progress | None = None,
    *,
    trade_noise: TradeNoise | None = None,
    typologies: Typologies | None = None,
) -> GenerationSummary:
    """Write a synthetic data folder (``out_dir/data``) and its ground truth (``out_dir/truth``);
    ``typologies``: also plant money-laundering typologies and their look-alikes."""
    if enterprises < MIN_ENTERPRISES:
        raise IngestError(f"at least {MIN_ENTERPRISES} enterprises are needed, got {enterprises}")
    try:
        return _Generator(
            Path(out_dir), enterprises, seed, progress, trade_noise, typologies
        ).run()
    except OSError as e:
        raise IngestError(f"cannot write the generated folder {out_dir}: {e}") from e


@dataclass(slots=True)
class _Candidate:
    invoice_id: str
    buyer: int
    gross: int
    issued: int
    due: int


@dataclass(slots=True)
class _Asset:
    id: str
    kind: str
    owner: int
    value: int
    status: str


@dataclass(slots=True)
class _DuplicatePledge:
    id: str
    collateral_kind: str
    collateral_id: str
    borrower: int
    financing_ids: list[str] = field(default_factory=list)


class _Generator:
    def __init__(
        self, out_dir: Path, n: int, seed: int, progress: Progress | None,
        trade_noise: TradeNoise | None = None, typologies: Typologies | None = None,
    ) -> None:
        self.out = out_dir
        self.typologies = typologies
        self.n = n
        self.seed = seed
        self.progress = progress or (lambda stage, done, total: None)
        self.r = random.Random(seed)
        self.rng = np.random.default_rng(seed)
        self.noise = trade_noise
        self.noise_r = random.Random(f"trade-noise-{seed}")  # never touches self.r's stream
        self._gap_share: dict[int, float] = {}
        self.cal = Calendar.for_as_of(as_of_for_seed(seed))
        self.as_of = self.cal.as_of_ord
        self._iso: dict[int, str] = {}
        self.truth_counts: dict[str, int] = {}

    # -- helpers ---------------------------------------------------------------------------
    def iso(self, ordinal: int) -> str:
        s = self._iso.get(ordinal)
        if s is None:
            s = self._iso[ordinal] = date.fromordinal(ordinal).isoformat()
        return s

    def default_on(self, i: int) -> int | None:
        """The day firm i stopped paying and trading (mid-month of its default month)."""
        dm = int(self.health.default_month[i])
        if dm < 0:
            return None
        return self.cal.month_start[dm] + 14

    def defaulted_by_as_of(self, i: int) -> bool:
        d = self.default_on(i)
        return d is not None and d <= self.as_of

    def _tick(self, stage: str, done: int, total: int) -> None:
        if done == total or done % max(1, total // 100) == 0:
            self.progress(stage, done, total)

    # -- the run ---------------------------------------------------------------------------
    def run(self) -> GenerationSummary:
        t0 = time.perf_counter()
        data_dir = self.out / "data"
        truth_dir = self.out / "truth"
        data_dir.mkdir(parents=True, exist_ok=True)
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.truth_dir = truth_dir

        self.progress("plan", 0, 1)
        self._plan()
        self.progress("plan", 1, 1)
        with DataWriter(data_dir) as w:
            self.w = w
            self._goods()
            self._enterprises()
            self._persons()
            self._holdings()
            self._roles()
            self._guarantees()
            self._warehouses()
            self._trade()
            self._rings()
            self._shell_invoices()
            if self.typologies is not None:
                self._typologies(self.typologies)
            self._assets()
            self._financings()
            self._close_truth_sinks()
        counts = self.w.counts()
        manifest = {
            "format": "chainlens-ingest", "version": 1, "generator": GENERATOR,
            "seed": self.seed,
            # The synthetic as-of moment, not the wall clock: output is a function of the seed.
            "created_at": f"{self.cal.as_of.isoformat()}T18:00:00+08:00",
            "counts": counts,
        }
        (data_dir / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        self._truth()
        self.progress("done", 1, 1)
        return GenerationSummary(self.out, self.seed, self.n, self.cal.as_of, counts,
                                 dict(sorted(self.truth_counts.items())),
                                 time.perf_counter() - t0)

    # -- planning --------------------------------------------------------------------------
    def _plan(self) -> None:
        r, rng, n = self.r, self.rng, self.n
        sizes = shell_cluster_sizes(n, r)
        plan = plan_enterprises(n, sum(sizes), rng, self.cal)
        plan_trade(plan, r, rng)
        used = np.zeros(n, np.bool_)
        self.used = used  # firms in planted structures (kept out of the typologies)
        self.equity: list[EquityCycle] = choose_equity_cycles(plan, r, used)
        circles = choose_guarantee_circles(plan, r, used)
        plan_parents(plan, r, used.copy())
        plan_guarantees(plan, r, circles)
        self.circles = circles
        self.plan: Plan = plan
        self.health: Health = simulate_health(plan, rng)
        self.n_persons = max(10, round(0.8 * n))
        self.rings: list[Ring] = choose_rings(plan, r, used, self.health.default_month,
                                              self.n_persons)
        self.twins: list[Twin] = choose_twins(plan, r)
        self._plan_shells(sizes)
        self._plan_legal_reps()
        self._plan_contacts()
        # Plain lists for the per-row loops (numpy scalar indexing is slow there).
        self.region_of = [REGIONS[k] for k in plan.region.tolist()]
        self.flow_l: list[int] = plan.flow.tolist()
        self.chain_l: list[int] = plan.chain.tolist()
        self.founded_l: list[int] = plan.founded.tolist()
        self.shell_l: list[bool] = plan.is_shell.tolist()
        self.core_l: list[bool] = plan.is_core.tolist()

    def _plan_shells(self, sizes: list[int]) -> None:
        plan, r = self.plan, self.r
        shells = np.flatnonzero(plan.is_shell).tolist()
        alive = [i for i in regular_pool(plan)
                 if self.health.default_month[i] < 0 or self.health.default_month[i] >= 24]
        self.shells: list[ShellCluster] = []
        k = 0
        for c, size in enumerate(sizes):
            members = shells[k : k + size]
            k += size
            shared = [s for s in ("address", "phone", "legal_representative") if r.random() < 0.5]
            if not shared:
                shared = [r.choice(("address", "phone", "legal_representative"))]
            buyers = r.sample(alive, r.randint(1, 2))
            cluster = ShellCluster(f"SHELL-{c + 1:04d}", members, shared, buyers)
            if "legal_representative" in shared:
                cluster.legal_rep = r.randrange(self.n_persons)
            # Shell companies of one cluster sit in one region, founded within weeks.
            plan.region[members] = plan.region[members[0]]
            plan.founded[members] = plan.founded[members[0]] - np.array(
                [r.randint(0, 40) for _ in members])
            self.shells.append(cluster)
        for t in self.twins:
            if t.kind == "look_alike_trade_name":
                plan.region[t.b] = plan.region[t.a]
            elif REGIONS[int(plan.region[t.b])].province == REGIONS[int(plan.region[t.a])].province:
                others = [j for j, g in enumerate(REGIONS)
                          if g.province != REGIONS[int(plan.region[t.a])].province]
                plan.region[t.b] = r.choice(others)

    def _plan_legal_reps(self) -> None:
        """Legal representatives: most lead one firm, groups and a few people lead many."""
        plan, r = self.plan, self.r
        rep = np.full(self.n, -1, np.int64)
        fresh = 0
        done: list[int] = []
        for i in np.argsort(plan.rank).tolist():
            p = int(plan.parent[i])
            if p >= 0 and rep[p] >= 0 and r.random() < 0.35:
                rep[i] = rep[p]
            elif fresh < self.n_persons and (r.random() < 0.8 or not done):
                rep[i] = fresh
                fresh += 1
            else:
                rep[i] = rep[done[int(r.random() * len(done))]]
            done.append(i)
        for ring in self.rings:
            for m in ring.members:
                if r.random() < 0.5:
                    rep[m] = ring.controller
        for cluster in self.shells:
            if cluster.legal_rep >= 0:
                rep[cluster.members] = cluster.legal_rep
        self.legal_rep = rep

    def _plan_contacts(self) -> None:
        """Who shares an address or phone: group firms sometimes, shell clusters always."""
        plan, r = self.plan, self.r
        self.addr_owner = np.arange(self.n)
        self.phone_owner = np.arange(self.n)
        subsidiaries = np.flatnonzero(plan.parent >= 0)
        # Parents rank before their subsidiaries, so an owner is final before it is copied.
        for i in subsidiaries[np.argsort(plan.rank[subsidiaries])].tolist():
            if r.random() < 0.2:
                self.addr_owner[i] = self.addr_owner[plan.parent[i]]
        for cluster in self.shells:
            first = cluster.members[0]
            if "address" in cluster.shared:
                self.addr_owner[cluster.members] = first
            if "phone" in cluster.shared:
                self.phone_owner[cluster.members] = first

    # -- deterministic per-index facts -----------------------------------------------------
    def address_text(self, i: int) -> str:
        g = self.region_of[i]
        h = (i * 2654435761 + self.seed * 97) % 1_000_003
        road = ROADS[h % len(ROADS)]
        number = 1 + (h // len(ROADS)) % 998
        head = g.city if g.province == g.city else g.province + g.city
        park = "经济技术开发区" if h % 5 == 0 else ""
        return f"{head}{park}{road}{number}号"

    def phone_number(self, i: int) -> str:
        g = self.region_of[i]
        local = 60_000_000 + (i * 7919 + self.seed * 31) % 30_000_000
        if i % 4 == 0:
            return f"1{3 + i % 7}{local:08d}{i % 10}"
        return f"{g.area_code}-{local}"

    def uscc(self, i: int, coop: bool) -> str:
        body = f"{(i * 48271 + self.seed * 7919 + 10_000_000) % 100_000_000:08d}"
        region = self.region_of[i].code
        return make_uscc("9", "3" if coop else "1", region, body)

    @staticmethod
    def eid(i: int) -> str:
        return f"E{i + 1:07d}"

    @staticmethod
    def pid(k: int) -> str:
        return f"P{k + 1:07d}"

    # -- data files ------------------------------------------------------------------------
    def _goods(self) -> None:
        goods = self.w.sink("goods")
        inputs = self.w.sink("goods_inputs")
        for g in GOODS:
            goods.write([g.id, g.name, g.hs_code, g.category, g.unit])
            for src in g.inputs:
                inputs.write([src, g.id])

    def _name_parts(self, i: int, r: random.Random) -> nm.NameParts:
        g = self.region_of[i]
        if self.shell_l[i]:
            word, word_en = r.choice(_SHELL_WORDS)
            return nm.NameParts(g.city_short, g.city_en, nm.random_trade(r, False), word,
                                word_en, nm.LIMITED)
        role = CHAINS[self.chain_l[i]].roles[self.flow_l[i]]
        word, word_en = r.choice(role.words)
        if self.core_l[i]:
            form = nm.JOINT_STOCK if r.random() < 0.6 else nm.GROUP
        elif role.coop and r.random() < 0.4:
            form = nm.COOP
        else:
            u = r.random()
            form = nm.LIMITED if u < 0.75 else nm.LIMITED_LONG if u < 0.9 else nm.JOINT_STOCK
        if r.random() < 0.45 or g.province == g.city:
            region, region_en = g.province_short, g.province_en
        else:
            region, region_en = g.city_short, g.city_en
        trade = nm.random_trade(r, role.coop)
        return nm.NameParts(region, region_en, trade, word, word_en, form)

    def _enterprises(self) -> None:
        plan, r, w = self.plan, self.r, self.w
        ents = w.sink("enterprises")
        addrs = w.sink("addresses")
        phones = w.sink("phones")
        records = w.open_shuffled("enterprise_records", random.Random(self.seed ^ 0x5EED))
        clusters = self._truth_sink("enterprise_record_clusters",
                                    ("record_id", "enterprise_id", "source", "variants"))
        s2t = opencc.OpenCC("s2t")
        ids = RecordIds(self.seed)
        twin_of = {t.b: t for t in self.twins}
        twin_sources = {t.a for t in self.twins}
        parts_of: dict[int, nm.NameParts] = {}
        seen: set[str] = set()
        capital: list[int] = plan.capital.tolist()
        self.twins_written: list[Twin] = []
        for i in range(self.n):
            parts = self._name_parts(i, r)
            t = twin_of.get(i)
            if t is not None and t.a in parts_of:
                a = parts_of[t.a]
                if t.kind == "look_alike_trade_name":
                    twin = nm.NameParts(a.region, a.region_en, nm.look_alike(a.trade, r),
                                        a.industry, a.industry_en, a.form)
                else:
                    g = self.region_of[i]
                    twin = nm.NameParts(g.city_short, g.city_en, a.trade, a.industry,
                                        a.industry_en, a.form)
                if twin.name not in seen and twin.trade:
                    parts = twin
                    self.twins_written.append(t)
            tries = 0
            while parts.name in seen:
                tries += 1
                parts = self._name_parts(i, r)
                if tries > 20:
                    parts = nm.NameParts(parts.region, parts.region_en,
                                         parts.trade + nm.TRADE_CHARS[tries % 50], parts.industry,
                                         parts.industry_en, parts.form)
            seen.add(parts.name)
            if i in twin_sources:
                parts_of[i] = parts
            g = self.region_of[i]
            uscc = self.uscc(i, parts.form is nm.COOP)
            dm = int(self.health.default_month[i])
            status = "active"
            if 0 <= dm < HISTORY_MONTHS - 12 and r.random() < 0.5:
                status = "liquidating"
            if self.shell_l[i]:
                industry = "F5199"
            else:
                industry = CHAINS[self.chain_l[i]].roles[self.flow_l[i]].industry_code
            a_own, p_own = int(self.addr_owner[i]), int(self.phone_owner[i])
            ents.write([
                self.eid(i), parts.name, parts.name_en, uscc, parts.form.legal_form, g.code,
                industry, capital[i], "CNY", self.iso(self.founded_l[i]), status,
                "true" if self.core_l[i] else "false", f"A{a_own + 1:07d}", f"T{p_own + 1:07d}",
            ])
            address = self.address_text(a_own)
            phone = self.phone_number(p_own)
            if a_own == i:
                addrs.write([f"A{i + 1:07d}", address, g.code])
            if p_own == i:
                phones.write([f"T{i + 1:07d}", phone])
            facts = FirmFacts(parts, uscc, g.code, address, phone,
                              nm.person_name(self.seed, int(self.legal_rep[i])))
            for row, variants in dirty_records(facts, r, s2t, ids):
                records.write(row)
                clusters.write([row[0], self.eid(i), row[1], ";".join(variants)])
            self._tick("enterprises", i + 1, self.n)

    def _persons(self) -> None:
        sink = self.w.sink("persons")
        total = self.n_persons
        for k in range(total):
            region = REGIONS[(k * 31 + self.seed) % len(REGIONS)].code
            sink.write([self.pid(k), nm.person_name(self.seed, k),
                        nm.person_id_hash(self.seed, k, region)])
            self._tick("persons", k + 1, total)

    def _holdings(self) -> None:
        """Shareholders summing to 100% per firm: a parent firm, planted stakes, then people."""
        plan, r = self.plan, self.r
        sink = self.w.sink("holdings")
        planted: dict[int, list[tuple[str, int, int, int]]] = {}
        for cyc in self.equity:
            for k, holder in enumerate(cyc.members):
                target = cyc.members[(k + 1) % len(cyc.members)]
                since = self.as_of - r.randint(60, 600)
                planted.setdefault(target, []).append(("enterprise", holder, cyc.pct_bp[k], since))
        for ring in self.rings:
            for m, bp in zip(ring.members, ring.stake_bp, strict=True):
                since = self.as_of - r.randint(200, 900)
                planted.setdefault(m, []).append(("person", ring.controller, bp, since))
        for i in range(self.n):
            founded = self.founded_l[i]
            holders: dict[tuple[str, int], int] = {}
            held_since: dict[tuple[str, int], int] = {}
            left = 10_000
            p = int(plan.parent[i])
            if p >= 0:
                bp = 10_000 if r.random() < 0.3 else r.randint(51, 90) * 100
                holders[("enterprise", p)] = bp
                left -= bp
            for kind, h, bp, s in planted.get(i, ()):
                holders[(kind, h)] = holders.get((kind, h), 0) + bp
                held_since[(kind, h)] = max(s, founded)
                left -= bp
            if left > 0:
                controller = int(self.legal_rep[i]) if r.random() < 0.7 else r.randrange(
                    self.n_persons)
                others = [r.randrange(self.n_persons) for _ in range(r.choice((0, 0, 1, 1, 2)))]
                people = [controller, *others]
                shares = [left]
                if len(people) > 1:
                    main = r.randint(left // 2 // 100, left * 9 // 10 // 100) * 100
                    rest = left - main
                    shares = [main]
                    for _ in people[2:]:
                        part = r.randint(0, rest // 100) * 100
                        shares.append(part)
                        rest -= part
                    shares.append(rest)
                for person, bp in zip(people, shares, strict=True):
                    if bp > 0:
                        holders[("person", person)] = holders.get(("person", person), 0) + bp
            for (kind, h), bp in holders.items():
                hid = self.eid(h) if kind == "enterprise" else self.pid(h)
                s = held_since.get((kind, h), founded + r.randint(0, 900))
                sink.write([hid, kind, self.eid(i), pct_str(bp), self.iso(min(s, self.as_of))])
            self._tick("holdings", i + 1, self.n)

    def _roles(self) -> None:
        r = self.r
        sink = self.w.sink("roles")
        supervisors = self.rng.permutation(self.n_persons)
        for i in range(self.n):
            seen: set[tuple[int, str]] = set()
            sup = int(supervisors[i]) if i < self.n_persons else r.randrange(self.n_persons)
            picks = [(int(self.legal_rep[i]), "legal_representative"), (sup, "supervisor")]
            picks += [(r.randrange(self.n_persons), "director") for _ in range(r.randint(1, 3))]
            if r.random() < 0.3:
                picks.append((r.randrange(self.n_persons), "executive"))
            for person, kind in picks:
                if (person, kind) not in seen:
                    seen.add((person, kind))
                    sink.write([self.pid(person), self.eid(i), kind])
            self._tick("roles", i + 1, self.n)

    def _guarantees(self) -> None:
        plan, r = self.plan, self.r
        sink = self.w.sink("guarantees")
        self.circle_guarantees: list[list[str]] = [[] for _ in self.circles]
        start = self.cal.start - 365
        k = 0
        for g, b, amount, circle in zip(plan.g_from.tolist(), plan.g_to.tolist(),
                                        plan.g_amount.tolist(), plan.g_circle.tolist(),
                                        strict=True):
            k += 1
            gid = f"GU{k:08d}"
            signed = r.randint(start, self.as_of - 30)
            signed = max(signed, int(plan.founded[g]) + 30, int(plan.founded[b]) + 30)
            sink.write([gid, self.eid(g), "enterprise", self.eid(b), amount, "CNY",
                        self.iso(signed), self.iso(signed + 365 * r.randint(1, 3))])
            if circle >= 0:
                self.circle_guarantees[circle].append(gid)
        # Personal guarantees by legal representatives for their own firms' loans.
        for i in range(self.n):
            if plan.is_shell[i] or r.random() >= 0.1:
                continue
            k += 1
            signed = max(r.randint(start, self.as_of - 30), int(plan.founded[i]) + 30)
            amount = int(plan.capital[i] * r.uniform(0.2, 1.0)) // 100_000 * 100_000
            sink.write([f"GU{k:08d}", self.pid(int(self.legal_rep[i])), "person", self.eid(i),
                        max(amount, 100_000), "CNY", self.iso(signed),
                        self.iso(signed + 365 * r.randint(1, 3))])

    def _warehouses(self) -> None:
        plan, r = self.plan, self.r
        sink = self.w.sink("warehouses")
        self.warehouses: list[list[str]] = [[] for _ in CHAINS]
        count = max(2 * len(CHAINS), self.n // 150)
        for k in range(count):
            c = k % len(CHAINS)
            pool = np.concatenate([plan.members[c][f] for f in (CORE_FLOW - 1, CORE_FLOW,
                                                                 CORE_FLOW + 1)])
            operator = int(pool[int(r.random() * len(pool))])
            g = REGIONS[int(plan.region[operator])]
            wid = f"W{k + 1:05d}"
            sink.write([wid, f"{g.city_short}{CHAINS[c].warehouse_word}{k + 1:03d}号库",
                        self.eid(operator), g.code, f"{g.lat + r.uniform(-0.3, 0.3):.4f}",
                        f"{g.lon + r.uniform(-0.3, 0.3):.4f}"])
            self.warehouses[c].append(wid)

    def _trade(self) -> None:
        """Contracts, invoices, shipments and payments, one relationship at a time."""
        plan, r, cal = self.plan, self.r, self.cal
        w = self.w
        contracts, invoices = w.sink("contracts"), w.sink("invoices")
        shipments, payments = w.sink("shipments"), w.sink("payments")
        unmatched = self._truth_sink("unmatched_invoices",
                                     ("invoice_id", "seller_id", "buyer_id", "issued_on",
                                      "amount"))
        self.inv_no = self.ship_no = self.pay_no = self.ct_no = 0
        self.gaps = (
            self._truth_sink("logistics_gaps", ("invoice_id", "seller_id", "buyer_id"))
            if self.noise else None
        )
        # Receivables borrowers: suppliers whose unpaid invoices may be financed.
        upstream = np.flatnonzero((plan.flow >= 1) & (plan.flow < CORE_FLOW) & ~plan.is_shell)
        picked = self.rng.choice(upstream, size=max(4, len(upstream) // 15), replace=False)
        self.recv_borrowers = set(picked.tolist())
        self.candidates: dict[int, list[_Candidate]] = {}

        m = len(plan.e_seller)
        start = np.array(cal.month_start)[plan.e_start]
        end = np.full(m, self.as_of, np.int64)
        for party in (plan.e_seller, plan.e_buyer):
            dm = self.health.default_month[party]
            stop = np.where((dm >= 0) & (dm < HISTORY_MONTHS),
                            np.array(cal.month_start)[np.clip(dm, 0, None)] + 14, self.as_of)
            end = np.minimum(end, stop)
        active = end > start
        lam = plan.e_rate * np.maximum(end - start, 0) / 30.4
        n_inv = np.where(active, np.maximum(1, self.rng.poisson(lam)), 0)

        flow, founded = self.flow_l, self.founded_l
        sellers, buyers = plan.e_seller.tolist(), plan.e_buyer.tolist()
        e_chain, e_start = plan.e_chain.tolist(), plan.e_start.tolist()
        e_value: list[float] = plan.e_value.tolist()
        starts, ends, counts = start.tolist(), end.tolist(), n_inv.tolist()
        for e in range(m):
            s, b, c = sellers[e], buyers[e], e_chain[e]
            chain = CHAINS[c]
            role_s = chain.roles[flow[s]]
            role_b = chain.roles[flow[b]]
            goods = GOODS_BY_ID[role_s.goods_id or ""]
            st, en, count = starts[e], ends[e], counts[e]
            signed = st - (r.randint(30, 700) if e_start[e] == 0 else r.randint(0, 30))
            signed = max(signed, founded[s] + 30, founded[b] + 30)
            due = signed + 365 * r.randint(2, 4)
            stopped = self.defaulted_by_as_of(s) or self.defaulted_by_as_of(b)
            status = "terminated" if stopped else "fulfilled" if due < self.as_of else "active"
            self.ct_no += 1
            ct_id = f"CT{self.ct_no:08d}"
            expected = max(1, count) * e_value[e]
            kind = "framework" if count >= 6 else "purchase" if r.random() < 0.5 else "supply"
            contracts.write([ct_id, kind, self.eid(s), self.eid(b),
                             int(round(expected, -6)) or 1_000_000, "CNY", self.iso(signed),
                             self.iso(due), status])
            if count == 0:
                continue
            price = goods.price * r.uniform(0.9, 1.1)
            span = en - st + 1
            days = sorted(st + int(r.random() * span) for _ in range(count))
            b_default = self.default_on(b)
            whs = self.warehouses[c]
            for day in days:
                self._invoice(s, b, ct_id, goods, price, e_value[e], day,
                              role_b.pay_days, b_default, whs, invoices, shipments, payments,
                              unmatched)
            self._tick("trade", e + 1, m)

    def _invoice(
        self, s: int, b: int, ct_id: str, goods: Goods, price: float, value: float, day: int,
        pay_days: int, b_default: int | None, whs: list[str], invoices: Any, shipments: Any,
        payments: Any, unmatched: CsvSink,
    ) -> None:
        r = self.r
        rand = r.random
        sid, bid = self.eid(s), self.eid(b)
        qty = max(value * r.lognormvariate(0.0, 0.35) / price, 10.0 ** -goods.decimals)
        qty_s = decimal_str(qty, goods.decimals)
        amount = max(1, round(float(qty_s) * price))
        tax = amount * goods.tax_bp // 10_000
        due = day + pay_days - 5 + int(rand() * 16)
        self.inv_no += 1
        inv_id = f"INV{self.inv_no:09d}"
        u = rand()
        ship = pay = True
        status = ""
        if u < 0.002:
            status, ship, pay = "void", False, False
        elif u < 0.006 and day < self.as_of - 45 and b_default is None:
            # Planted: an invoice with neither a goods receipt nor a payment.
            ship = pay = False
            status = "overdue" if due < self.as_of else "issued"
            unmatched.write([inv_id, sid, bid, self.iso(day), amount])
        gross = amount + tax
        paid_on = max(day + 1, due + int(r.gauss(0.0, 10.0)))
        paid = 0
        if pay:
            unpaid = paid_on > self.as_of or (b_default is not None and paid_on >= b_default)
            if unpaid:
                status = "overdue" if due < self.as_of else "issued"
            elif rand() < 0.03:
                paid = int(gross * r.uniform(0.4, 0.9))
                status = "partially_paid"
            else:
                paid = gross
                status = "paid"
        invoices.write([inv_id, sid, bid, ct_id, goods.id, qty_s, amount, tax,
                        "CNY", self.iso(day), self.iso(due), status])
        if ship:
            self.ship_no += 1
            shipped = day - int(rand() * 4)
            received = shipped + 1 + int(rand() * 6)
            wh = whs[int(rand() * len(whs))] if whs and rand() < 0.15 else ""
            if self.gaps is not None and self.noise_r.random() < self._undocumented(s):
                # The goods moved; the record of it never reached the data.
                self.gaps.write([inv_id, sid, bid])
            else:
                shipments.write([f"SHP{self.ship_no:09d}", ct_id, inv_id, goods.id, sid, bid,
                                 qty_s, self.iso(shipped),
                                 self.iso(received) if received <= self.as_of else "", wh])
        if paid:
            self.pay_no += 1
            payments.write([f"PAY{self.pay_no:09d}", inv_id, bid, sid, paid, "CNY",
                            self.iso(paid_on)])
        if status == "issued" and s in self.recv_borrowers and ship:
            cands = self.candidates.setdefault(s, [])
            if len(cands) < 4:
                cands.append(_Candidate(inv_id, b, gross, day, due))
            else:
                cands[int(rand() * 4)] = _Candidate(inv_id, b, gross, day, due)

    def _undocumented(self, seller: int) -> float:
        """The share of ``seller``'s invoices without a shipment record (trade noise)."""
        share = self._gap_share.get(seller)
        if share is None:
            noise, nr = self.noise, self.noise_r
            assert noise is not None
            share = (nr.uniform(*noise.undocumented_share)
                     if nr.random() < noise.undocumented_sellers else 0.0)
            self._gap_share[seller] = share
        return share

    def _fake_shipment(self, ct_id: str, inv_id: str, goods: Goods | None, s: int, b: int,
                       qty: str, day: int) -> None:
        """A shipment record for a fraudulent invoice, dated like a real one (none for
        services: nothing to ship)."""
        if goods is None or not qty:
            return
        self.ship_no += 1
        shipped = day - self.noise_r.randint(0, 3)
        received = shipped + self.noise_r.randint(1, 6)
        self.w.sink("shipments").write([
            f"SHP{self.ship_no:09d}", ct_id, inv_id, goods.id, self.eid(s), self.eid(b), qty,
            self.iso(shipped), self.iso(received) if received <= self.as_of else "", ""])

    def _goods_of(self, i: int) -> Goods | None:
        plan = self.plan
        if plan.is_shell[i]:
            return None
        roles = CHAINS[int(plan.chain[i])].roles
        gid = roles[int(plan.flow[i])].goods_id or roles[int(plan.flow[i]) - 1].goods_id
        return GOODS_BY_ID[gid] if gid else None

    def _inputs_of(self, i: int) -> Goods | None:
        """What firm i buys in its chain (what a fake supplier would claim to sell it)."""
        f = int(self.plan.flow[i])
        gid = CHAINS[int(self.plan.chain[i])].roles[f - 1].goods_id if f > 0 else None
        return GOODS_BY_ID[gid] if gid else None

    def _rings(self) -> None:
        """Planted circular trade: invoices and payments around a cycle, no goods moving."""
        r, cal = self.r, self.cal
        invoices, payments = self.w.sink("invoices"), self.w.sink("payments")
        contracts = self.w.sink("contracts")
        for ring in self.rings:
            k = len(ring.members)
            ring.shipped = self.noise is not None and (
                self.noise_r.random() < self.noise.shipped_rings)
            rounds = r.randint(2, 4)
            starts = sorted(r.randint(cal.month_start[4], self.as_of - 40) for _ in range(rounds))
            legs: list[str] = []
            for j in range(k):
                s, b = ring.members[j], ring.members[(j + 1) % k]
                self.ct_no += 1
                ct_id = f"CT{self.ct_no:08d}"
                signed = starts[0] - r.randint(5, 30)
                contracts.write([ct_id, "supply", self.eid(s), self.eid(b),
                                 rounds * 10_000_000_00, "CNY", self.iso(signed),
                                 self.iso(signed + 365), "active"])
                legs.append(ct_id)
                ring.contract_ids.append(ct_id)
            for start in starts:
                base = r.choice((1, 2, 3, 5, 8, 10)) * 1_000_000_00
                day = start
                for j in range(k):
                    s, b = ring.members[j], ring.members[(j + 1) % k]
                    goods = self._goods_of(s)
                    amount = int(base * (1 - 0.002 * j)) // 100 * 100
                    tax = amount * (goods.tax_bp if goods else 1300) // 10_000
                    qty = decimal_str(amount / goods.price, goods.decimals) if goods else ""
                    self.inv_no += 1
                    inv_id = f"INV{self.inv_no:09d}"
                    invoices.write([inv_id, self.eid(s), self.eid(b), legs[j],
                                    goods.id if goods else "", qty, amount, tax, "CNY",
                                    self.iso(day), self.iso(day + 30), "paid"])
                    if ring.shipped:
                        self._fake_shipment(legs[j], inv_id, goods, s, b, qty, day)
                    self.pay_no += 1
                    pay_id = f"PAY{self.pay_no:09d}"
                    payments.write([pay_id, inv_id, self.eid(b), self.eid(s), amount + tax, "CNY",
                                    self.iso(day + r.randint(1, 5))])
                    ring.invoice_ids.append(inv_id)
                    ring.payment_ids.append(pay_id)
                    last = day
                    day += r.randint(1, 4)
                ring.windows.append((self.iso(start), self.iso(last)))

    def _shell_invoices(self) -> None:
        """Planted: newly founded shells suddenly invoice large amounts, with nothing shipped."""
        plan, r = self.plan, self.r
        invoices, payments = self.w.sink("invoices"), self.w.sink("payments")
        for cluster in self.shells:
            cluster.shipped = self.noise is not None and (
                self.noise_r.random() < self.noise.shipped_shells)
            for s in cluster.members:
                founded = int(plan.founded[s])
                for _ in range(r.randint(2, 5)):
                    b = r.choice(cluster.buyers)
                    day = min(founded + r.randint(20, 120), self.as_of)
                    goods = self._inputs_of(b)
                    amount = r.randint(200, 2_000) * 1_000_000
                    tax = amount * 1300 // 10_000
                    qty = decimal_str(amount / goods.price, goods.decimals) if goods else ""
                    self.inv_no += 1
                    inv_id = f"INV{self.inv_no:09d}"
                    paid_on = day + r.randint(5, 30)
                    paid = r.random() < 0.7 and paid_on <= self.as_of
                    due = day + 30
                    status = "paid" if paid else "overdue" if due < self.as_of else "issued"
                    invoices.write([inv_id, self.eid(s), self.eid(b), "",
                                    goods.id if goods else "", qty, amount, tax, "CNY",
                                    self.iso(day), self.iso(due), status])
                    if cluster.shipped:
                        self._fake_shipment("", inv_id, goods, s, b, qty, day)
                    if paid:
                        self.pay_no += 1
                        payments.write([f"PAY{self.pay_no:09d}", inv_id, self.eid(b), self.eid(s),
                                        amount + tax, "CNY", self.iso(paid_on)])
                    cluster.invoice_ids.append(inv_id)

    def _assets(self) -> None:
        """Herds, inventory and warehouse receipts of producers, with the sensors on them."""
        plan, r = self.plan, self.r
        assets, sensors = self.w.sink("assets"), self.w.sink("sensors")
        self.assets: list[_Asset] = []
        a_no = s_no = 0
        window = (self.cal.start, self.as_of)

        def sensor(kind: str, asset: str, wh: str) -> None:
            nonlocal s_no
            s_no += 1
            sensors.write([f"S{s_no:08d}", kind, asset, wh, self.iso(r.randint(*window))])

        for c, chain in enumerate(CHAINS):
            for wh in self.warehouses[c]:
                for kind in ("thermometer", "hygrometer"):
                    sensor(kind, "", wh)
            for f in range(FLOW_POSITIONS - 1):
                goods = GOODS_BY_ID[chain.roles[f].goods_id or ""]
                if goods.category == "service":
                    continue
                livestock = goods.unit == "head"
                for i in plan.members[c][f].tolist():
                    if r.random() >= 0.4:
                        continue
                    for _ in range(r.randint(1, 2)):
                        a_no += 1
                        aid = f"AS{a_no:08d}"
                        status = r.choices(("active", "sold", "released"), (0.9, 0.05, 0.05))[0]
                        unit_value = int(goods.price * r.uniform(0.9, 1.1))
                        if livestock:
                            qty = float(r.randint(30, 1500))
                            kind, wh = "livestock", ""
                        else:
                            qty = r.uniform(1e8, 5e9) / unit_value
                            wh = r.choice(self.warehouses[c])
                            receipt = chain.asset_kind == "warehouse_receipt" or r.random() < 0.3
                            kind = "warehouse_receipt" if receipt else "inventory"
                        qty_s = decimal_str(qty, goods.decimals)
                        qty = max(float(qty_s), 1.0)
                        qty_s = decimal_str(qty, goods.decimals)
                        assets.write([aid, kind, self.eid(i), goods.id, wh, qty_s, goods.unit,
                                      unit_value, "CNY", status])
                        self.assets.append(_Asset(aid, kind, i, int(qty * unit_value), status))
                        if livestock:
                            for kind_s in ("rfid_reader", "scale", "gps"):
                                sensor(kind_s, aid, "")
                            for _ in range(min(int(qty), 10)):
                                sensor("rfid_tag", aid, "")
                        else:
                            sensor("camera_counter", aid, wh)
            self._tick("assets", c + 1, len(CHAINS))

    def _financings(self) -> None:
        """Existing financings with pledges, and the planted duplicate pledges."""
        r = self.r
        fins, pledges = self.w.sink("financings"), self.w.sink("pledges")
        f_no = p_no = 0
        self.duplicates: list[_DuplicatePledge] = []

        def financing(kind: str, borrower: int, amount: int, start: int, maturity: int,
                      live: bool = False, lender: str | None = None) -> str:
            nonlocal f_no
            f_no += 1
            fid = f"FIN{f_no:08d}"
            d = self.default_on(borrower)
            if live:
                status = "live"
            elif d is not None and d <= self.as_of and d < maturity:
                status = "written_off" if d < self.as_of - 365 else "overdue"
            else:
                status = "live" if maturity > self.as_of else "repaid"
            fins.write([fid, kind, self.eid(borrower), lender or r.choice(LENDERS),
                        max(amount // 1_000_000 * 1_000_000, 1_000_000), "", "CNY",
                        self.iso(start), self.iso(maturity), status])
            return fid

        def pledge(fid: str, kind: str, collateral: str, on: int) -> None:
            nonlocal p_no
            p_no += 1
            pledges.write([f"PL{p_no:08d}", fid, kind, collateral, self.iso(on)])

        n_dup = max(3, self.n // 400)
        alive = {i for i in self.candidates if not self.defaulted_by_as_of(i)}
        # Planted duplicates first (half receivables, half warehouse receipts).
        dup_invoices = sorted(i for i in alive if self.candidates[i])[: (n_dup + 1) // 2]
        for i in dup_invoices:
            cand = self.candidates[i].pop()
            dup = _DuplicatePledge(f"DUP-{len(self.duplicates) + 1:04d}", "invoice",
                                   cand.invoice_id, i)
            lenders = r.sample(LENDERS, 2)
            for k in range(2):
                start = min(cand.issued + r.randint(1, 20) + 10 * k, self.as_of)
                fid = financing("receivables_pledge" if k else "factoring", i,
                                int(cand.gross * r.uniform(0.6, 0.8)), start,
                                max(cand.due, self.as_of + 30) + r.randint(0, 30), live=True,
                                lender=lenders[k])
                pledge(fid, "invoice", cand.invoice_id, start)
                dup.financing_ids.append(fid)
            self.duplicates.append(dup)
        receipts = [a for a in self.assets if a.kind == "warehouse_receipt" and a.status == "active"
                    and not self.defaulted_by_as_of(a.owner)]
        r.shuffle(receipts)
        used_assets: set[str] = set()
        for a in receipts[: n_dup - len(self.duplicates)]:
            dup = _DuplicatePledge(f"DUP-{len(self.duplicates) + 1:04d}", "asset", a.id, a.owner)
            lenders = r.sample(LENDERS, 2)
            for k in range(2):
                start = self.as_of - r.randint(20, 200)
                fid = financing("warehouse_receipt_pledge", a.owner,
                                int(a.value * r.uniform(0.5, 0.7)), start,
                                self.as_of + r.randint(60, 300), live=True, lender=lenders[k])
                pledge(fid, "asset", a.id, start)
                dup.financing_ids.append(fid)
            used_assets.add(a.id)
            self.duplicates.append(dup)

        # Ordinary receivables financings: each invoice pledged at most once.
        for i in sorted(self.candidates):
            for cand in self.candidates[i]:
                if r.random() >= 0.5:
                    continue
                start = min(cand.issued + r.randint(1, 20), self.as_of)
                buyer_core = bool(self.plan.is_core[cand.buyer])
                kind = "reverse_factoring" if buyer_core else r.choice(
                    ("factoring", "receivables_pledge"))
                fid = financing(kind, i, int(cand.gross * r.uniform(0.6, 0.85)), start,
                                cand.due + r.randint(0, 20))
                pledge(fid, "invoice", cand.invoice_id, start)
        # Ordinary asset-backed financings.
        for a in self.assets:
            if a.id in used_assets or a.status != "active" or r.random() >= 0.3:
                continue
            start = self.as_of - r.randint(30, 540)
            kind = ("warehouse_receipt_pledge" if a.kind == "warehouse_receipt"
                    else "movable_asset_pledge")
            fid = financing(kind, a.owner, int(a.value * r.uniform(0.4, 0.7)), start,
                            start + r.randint(180, 365))
            pledge(fid, "asset", a.id, start)
        # Financings without pledged collateral in the file (orders, confirmed warehouses).
        pool = regular_pool(self.plan)
        for _ in range(max(2, self.n // 200)):
            i = pool[int(r.random() * len(pool))]
            start = self.as_of - r.randint(30, 540)
            financing(r.choice(("order_financing", "confirmed_warehouse", "voucher_discounting")),
                      i, int(self.plan.e_value.mean() * r.uniform(0.5, 3.0)), start,
                      start + r.randint(90, 365))

    def _typologies(self, cfg: Typologies) -> None:
        """Planted laundering typologies and benign look-alikes (``ingest.synthetic.typologies``),
        with their truth written at once."""
        from ingest.synthetic import typologies as ty

        params, found, alikes = ty.plant(self, cfg)
        self._jsonl("typologies", [ty.truth_rows(i, self) for i in found])
        self._jsonl("typology_look_alikes", [ty.truth_rows(i, self) for i in alikes])
        members = CsvSink(self.truth_dir / "typology_members.csv",
                          ("enterprise_id", "typology", "instance_id", "role"))
        for inst in found:
            for m, role in zip(inst.members, inst.roles, strict=True):
                members.write([self.eid(m), inst.kind, inst.id, role])
        members.close()
        self.truth_counts["typology_members"] = members.rows
        (self.truth_dir / "typology_params.json").write_text(
            json.dumps(ty.params_dict(params), indent=1) + "\n", encoding="utf-8")

    # -- ground truth ----------------------------------------------------------------------
    def _truth_sink(self, name: str, fields: tuple[str, ...]) -> CsvSink:
        sink = CsvSink(self.truth_dir / f"{name}.csv", fields)
        self._truth_sinks = getattr(self, "_truth_sinks", {})
        self._truth_sinks[name] = sink
        return sink

    def _close_truth_sinks(self) -> None:
        for name, sink in getattr(self, "_truth_sinks", {}).items():
            sink.close()
            self.truth_counts[name] = sink.rows

    def _jsonl(self, name: str, rows: list[dict[str, Any]]) -> None:
        with (self.truth_dir / f"{name}.jsonl").open("w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.truth_counts[name] = len(rows)

    def _truth(self) -> None:
        plan, health, cal = self.plan, self.health, self.cal
        e = self.eid
        ents = CsvSink(self.truth_dir / "enterprises.csv",
                       ("enterprise_id", "chain", "second_chain", "role", "position", "tier",
                        "is_core", "is_shell", "parent_id", "legal_rep_id"))
        defaults = CsvSink(self.truth_dir / "defaults.csv",
                           ("enterprise_id", "default_month", "default_on", "defaulted_by_asof",
                            "defaulted_within_12m_after_asof", "health_start", "health_min",
                            "health_asof", "health_mean", "shock_drag", "contagion_drag",
                            "cause"))
        for i in range(self.n):
            if plan.is_shell[i]:
                chain = role = position = tier = ""
            else:
                f = int(plan.flow[i])
                chain = CHAINS[int(plan.chain[i])].key
                role = CHAINS[int(plan.chain[i])].roles[f].key
                position = "core" if f == CORE_FLOW else "upstream" if f < CORE_FLOW else (
                    "downstream")
                tier = str(abs(CORE_FLOW - f))
            c2 = int(plan.second_chain[i])
            p = int(plan.parent[i])
            ents.write([e(i), chain, CHAINS[c2].key if c2 >= 0 else "", role, position, tier,
                        "true" if plan.is_core[i] else "false",
                        "true" if plan.is_shell[i] else "false", e(p) if p >= 0 else "",
                        self.pid(int(self.legal_rep[i]))])
            dm = int(health.default_month[i])
            d_on = self.default_on(i)
            cause = ""
            if dm >= 0:
                cause = ("contagion" if health.contagion_drag[i] > health.shock_drag[i]
                         else "shock")
            defaults.write([
                e(i), dm if dm >= 0 else "", self.iso(d_on) if d_on is not None else "",
                "true" if d_on is not None and d_on <= self.as_of else "false",
                "true" if d_on is not None and self.as_of < d_on <= self.as_of + 365
                else "false",
                f"{health.start[i]:.4f}", f"{health.minimum[i]:.4f}",
                f"{health.at_as_of[i]:.4f}", f"{health.mean[i]:.4f}",
                f"{health.shock_drag[i]:.4f}", f"{health.contagion_drag[i]:.4f}", cause,
            ])
        ents.close()
        defaults.close()
        self.truth_counts["enterprises"] = ents.rows
        self.truth_counts["defaults"] = defaults.rows

        self._jsonl("circular_trade_rings", [
            {"ring_id": ring.id, "members": [e(m) for m in ring.members],
             "controller_id": self.pid(ring.controller),
             "stakes_pct": [pct_str(bp) for bp in ring.stake_bp],
             "contract_ids": ring.contract_ids, "invoice_ids": ring.invoice_ids,
             "payment_ids": ring.payment_ids,
             "windows": [list(wnd) for wnd in ring.windows], "shipped": ring.shipped}
            for ring in self.rings])
        self._jsonl("shell_clusters", [
            {"cluster_id": c.id, "members": [e(m) for m in c.members], "shared": c.shared,
             "address_id": f"A{int(self.addr_owner[c.members[0]]) + 1:07d}"
             if "address" in c.shared else None,
             "phone_id": f"T{int(self.phone_owner[c.members[0]]) + 1:07d}"
             if "phone" in c.shared else None,
             "legal_rep_id": self.pid(c.legal_rep) if c.legal_rep >= 0 else None,
             "buyers": [e(b) for b in c.buyers], "invoice_ids": c.invoice_ids,
             "shipped": c.shipped}
            for c in self.shells])
        self._jsonl("guarantee_circles", [
            {"circle_id": f"GC-{k + 1:04d}", "members": [e(m) for m in members],
             "guarantee_ids": self.circle_guarantees[k]}
            for k, members in enumerate(self.circles)])
        self._jsonl("equity_cycles", [
            {"cycle_id": c.id, "kind": c.kind, "members": [e(m) for m in c.members],
             "pct": [pct_str(bp) for bp in c.pct_bp]}
            for c in self.equity])
        self._jsonl("duplicate_pledges", [
            {"id": d.id, "collateral_kind": d.collateral_kind, "collateral_id": d.collateral_id,
             "borrower_id": e(d.borrower), "financing_ids": d.financing_ids}
            for d in self.duplicates])
        hard = CsvSink(self.truth_dir / "hard_negatives.csv",
                       ("enterprise_id_a", "enterprise_id_b", "kind"))
        for t in self.twins_written:
            hard.write([e(t.a), e(t.b), t.kind])
        hard.close()
        self.truth_counts["hard_negatives"] = hard.rows

        defaulted = health.default_month >= 0
        summary = {
            "seed": self.seed, "enterprises": self.n, "persons": self.n_persons,
            "as_of": cal.as_of.isoformat(), "history_start": self.iso(cal.start),
            "history_months": HISTORY_MONTHS,
            "default_rate_by_asof": round(float(np.mean(
                defaulted & (health.default_month < HISTORY_MONTHS))), 4),
            "default_rate_next_12m": round(float(np.mean(
                defaulted & (health.default_month >= HISTORY_MONTHS))), 4),
            "trade_relationships": len(plan.e_seller),
            "truth_counts": dict(sorted(self.truth_counts.items())),
        }
        (self.truth_dir / "summary.json").write_text(
            json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

