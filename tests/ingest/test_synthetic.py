"""The synthetic generator: format conformance, references, determinism and planted patterns.

One folder of 1,500 enterprises is generated per module and read back with the csv module;
every planted pattern in the ground truth is checked against the data files themselves.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import networkx as nx
import opencc
import pytest

from entity_resolution.uscc import normalise_uscc, validate_uscc
from ingest.errors import IngestError
from ingest.synthetic import TradeNoise, generate
from ingest.synthetic.records import RECORD_COUNT_WEIGHTS

N = 1500
SEED = 11

# Fields per file in the order of docs/ingest-format.md; required ones marked with "!".
FORMAT_DOC: dict[str, str] = {
    "enterprises": "id! name! name_en uscc legal_form region_code industry_code "
    "registered_capital currency founded_on status is_core address_id phone_id",
    "persons": "id! name! id_hash",
    "addresses": "id! text! region_code",
    "phones": "id! number!",
    "goods": "id! name! hs_code category unit",
    "warehouses": "id! name! operator_id region_code lat lon",
    "contracts": "id! kind! seller_id! buyer_id! amount! currency signed_on! due_on status",
    "invoices": "id! seller_id! buyer_id! contract_id goods_id qty amount! tax currency "
    "issued_on! due_on status",
    "shipments": "id! contract_id invoice_id goods_id from_id! to_id! qty! shipped_on! "
    "received_on warehouse_id",
    "payments": "id! invoice_id! payer_id! payee_id! amount! currency paid_on!",
    "assets": "id! kind! owner_id! goods_id warehouse_id quantity! unit unit_value currency status",
    "sensors": "id! kind! asset_id warehouse_id installed_on",
    "financings": "id! product_kind! borrower_id! lender! amount! outstanding currency start_on! "
    "maturity_on! status",
    "enterprise_records": "record_id! source! name! name_en uscc legacy_org_code "
    "registration_no legal_form region_code address phone legal_rep",
    "holdings": "holder_id! holder_kind! enterprise_id! pct! since",
    "roles": "person_id! enterprise_id! kind!",
    "guarantees": "id! guarantor_id! guarantor_kind! beneficiary_id! amount! currency "
    "signed_on expires_on",
    "goods_inputs": "input_id! output_id!",
    "pledges": "id! financing_id! collateral_kind! collateral_id! pledged_on!",
}
FORMAT: dict[str, tuple[list[str], set[str]]] = {
    name: (
        [f.rstrip("!") for f in spec.split()],
        {f.rstrip("!") for f in spec.split() if f.endswith("!")},
    )
    for name, spec in FORMAT_DOC.items()
}
KIND = {
    "id": "id",
    "record_id": "id",
    "founded_on": "date",
    "signed_on": "date",
    "due_on": "date",
    "issued_on": "date",
    "shipped_on": "date",
    "received_on": "date",
    "paid_on": "date",
    "start_on": "date",
    "maturity_on": "date",
    "pledged_on": "date",
    "since": "date",
    "expires_on": "date",
    "installed_on": "date",
    "amount": "money",
    "tax": "money",
    "registered_capital": "money",
    "unit_value": "money",
    "currency": "currency",
    "pct": "pct",
    "qty": "decimal",
    "quantity": "decimal",
    "is_core": "bool",
    "id_hash": "sha256",
    "lat": "lat",
    "lon": "lon",
}
ENUMS = {
    ("enterprises", "status"): {"active", "revoked", "cancelled", "liquidating"},
    ("contracts", "kind"): {"purchase", "supply", "processing", "framework"},
    ("contracts", "status"): {"active", "fulfilled", "terminated"},
    ("invoices", "status"): {"issued", "paid", "partially_paid", "overdue", "void"},
    ("assets", "kind"): {"livestock", "inventory", "warehouse_receipt", "equipment"},
    ("assets", "status"): {"active", "sold", "released"},
    ("sensors", "kind"): {
        "rfid_tag",
        "rfid_reader",
        "scale",
        "gps",
        "thermometer",
        "hygrometer",
        "camera_counter",
    },
    ("financings", "product_kind"): {
        "factoring",
        "reverse_factoring",
        "receivables_pledge",
        "warehouse_receipt_pledge",
        "movable_asset_pledge",
        "order_financing",
        "confirmed_warehouse",
        "voucher_discounting",
    },
    ("financings", "status"): {"live", "repaid", "overdue", "written_off"},
    ("holdings", "holder_kind"): {"person", "enterprise"},
    ("guarantees", "guarantor_kind"): {"person", "enterprise"},
    ("roles", "kind"): {
        "legal_representative",
        "director",
        "supervisor",
        "executive",
        "shareholder_rep",
    },
    ("pledges", "collateral_kind"): {"invoice", "asset"},
    ("enterprise_records", "source"): {"bank_kyc", "customs", "tax", "erp_vendor_master"},
}
# (file, field) -> the file whose id it names; holder/guarantor references depend on a kind.
REFS = {
    ("enterprises", "address_id"): "addresses",
    ("enterprises", "phone_id"): "phones",
    ("warehouses", "operator_id"): "enterprises",
    ("contracts", "seller_id"): "enterprises",
    ("contracts", "buyer_id"): "enterprises",
    ("invoices", "seller_id"): "enterprises",
    ("invoices", "buyer_id"): "enterprises",
    ("invoices", "contract_id"): "contracts",
    ("invoices", "goods_id"): "goods",
    ("shipments", "contract_id"): "contracts",
    ("shipments", "invoice_id"): "invoices",
    ("shipments", "goods_id"): "goods",
    ("shipments", "from_id"): "enterprises",
    ("shipments", "to_id"): "enterprises",
    ("shipments", "warehouse_id"): "warehouses",
    ("payments", "invoice_id"): "invoices",
    ("payments", "payer_id"): "enterprises",
    ("payments", "payee_id"): "enterprises",
    ("assets", "owner_id"): "enterprises",
    ("assets", "goods_id"): "goods",
    ("assets", "warehouse_id"): "warehouses",
    ("sensors", "asset_id"): "assets",
    ("sensors", "warehouse_id"): "warehouses",
    ("financings", "borrower_id"): "enterprises",
    ("holdings", "enterprise_id"): "enterprises",
    ("roles", "person_id"): "persons",
    ("roles", "enterprise_id"): "enterprises",
    ("guarantees", "beneficiary_id"): "enterprises",
    ("goods_inputs", "input_id"): "goods",
    ("goods_inputs", "output_id"): "goods",
    ("pledges", "financing_id"): "financings",
}
ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONEY_RE = re.compile(r"^\d+$")
DECIMAL_RE = re.compile(r"^\d+(\.\d+)?$")
PCT_RE = re.compile(r"^\d{1,3}(\.\d{1,4})?$")


@dataclass
class Folder:
    root: Path
    _cache: dict[str, list[dict[str, str]]] = field(default_factory=dict)

    def rows(self, name: str) -> list[dict[str, str]]:
        if name not in self._cache:
            with (self.root / "data" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
                self._cache[name] = list(csv.DictReader(f))
        return self._cache[name]

    def header(self, name: str) -> list[str]:
        with (self.root / "data" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            return next(csv.reader(f))

    def by_id(self, name: str, key: str = "id") -> dict[str, dict[str, str]]:
        return {row[key]: row for row in self.rows(name)}

    def truth_csv(self, name: str) -> list[dict[str, str]]:
        with (self.root / "truth" / f"{name}.csv").open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))

    def truth_jsonl(self, name: str) -> list[dict[str, object]]:
        lines = (self.root / "truth" / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    @property
    def as_of(self) -> date:
        summary = json.loads((self.root / "truth" / "summary.json").read_text())
        return date.fromisoformat(summary["as_of"])


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Folder]:
    root = tmp_path_factory.mktemp("synthetic")
    stages: list[str] = []
    summary = generate(root, N, SEED, lambda stage, done, total: stages.append(stage))
    assert summary.counts["enterprises"] == N
    assert {"plan", "enterprises", "trade", "done"} <= set(stages)
    yield Folder(root)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# -- format ---------------------------------------------------------------------------------


def test_every_file_has_the_format_header_and_the_manifest_counts(folder: Folder) -> None:
    manifest = json.loads((folder.root / "data" / "manifest.json").read_text())
    assert manifest["format"] == "chainlens-ingest" and manifest["version"] == 1
    assert manifest["seed"] == SEED
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$", manifest["created_at"])
    files = {p.stem for p in (folder.root / "data").glob("*.csv")}
    assert files == set(FORMAT)
    for name, (fields, _) in FORMAT.items():
        assert folder.header(name) == fields, name
        assert manifest["counts"][name] == len(folder.rows(name)), name
    assert not list((folder.root / "data").glob(".*")), "temporary files left behind"


def _check_value(file: str, name: str, value: str) -> str | None:
    kind = KIND.get(name)
    if (file, name) in ENUMS:
        return None if value in ENUMS[(file, name)] else "enum"
    if kind == "id" or name.endswith("_id"):
        return None if ID_RE.match(value) else "id"
    if kind == "date":
        if not DATE_RE.match(value):
            return "date"
        date.fromisoformat(value)
        return None
    if kind == "money":
        return None if MONEY_RE.match(value) else "money"
    if kind == "decimal":
        return None if DECIMAL_RE.match(value) else "decimal"
    if kind == "pct":
        return None if PCT_RE.match(value) and 0 < float(value) <= 100 else "pct"
    if kind == "currency":
        return None if value == "CNY" else "currency"
    if kind == "bool":
        return None if value in ("true", "false") else "bool"
    if kind == "sha256":
        return None if re.match(r"^[0-9a-f]{64}$", value) else "sha256"
    if kind == "lat":
        return None if -90 <= float(value) <= 90 else "lat"
    if kind == "lon":
        return None if -180 <= float(value) <= 180 else "lon"
    if name == "region_code" and file != "enterprise_records":
        return None if re.match(r"^[1-8]\d{5}$", value) else "region"
    return None


def test_required_fields_are_present_and_values_follow_the_conventions(folder: Folder) -> None:
    problems: list[str] = []
    for name, (_, required) in FORMAT.items():
        keys: Counter[str] = Counter()
        for line, row in enumerate(folder.rows(name), start=2):
            for f in required:
                if not row[f]:
                    problems.append(f"{name}:{line} {f} empty")
            for f, value in row.items():
                if value:
                    why = _check_value(name, f, value)
                    if why:
                        problems.append(f"{name}:{line} {f}={value!r} ({why})")
            if "id" in row:
                keys[row["id"]] += 1
            elif name == "enterprise_records":
                keys[row["record_id"]] += 1
        duplicates = [k for k, c in keys.items() if c > 1]
        assert not duplicates, f"{name}: duplicate ids {duplicates[:5]}"
    assert not problems, problems[:20]


def test_all_references_resolve(folder: Folder) -> None:
    ids = {name: {r.get("id") or r.get("record_id") for r in folder.rows(name)} for name in FORMAT}
    dangling: list[str] = []
    for (file, fld), target in REFS.items():
        for row in folder.rows(file):
            if row[fld] and row[fld] not in ids[target]:
                dangling.append(f"{file}.{fld}={row[fld]}")
    kinds = {"person": "persons", "enterprise": "enterprises"}
    for row in folder.rows("holdings"):
        if row["holder_id"] not in ids[kinds[row["holder_kind"]]]:
            dangling.append(f"holdings.holder_id={row['holder_id']}")
    for row in folder.rows("guarantees"):
        if row["guarantor_id"] not in ids[kinds[row["guarantor_kind"]]]:
            dangling.append(f"guarantees.guarantor_id={row['guarantor_id']}")
    for row in folder.rows("pledges"):
        target = "invoices" if row["collateral_kind"] == "invoice" else "assets"
        if row["collateral_id"] not in ids[target]:
            dangling.append(f"pledges.collateral_id={row['collateral_id']}")
    assert not dangling, dangling[:10]


def test_dates_lie_in_the_history_and_money_adds_up(folder: Folder) -> None:
    as_of = folder.as_of.isoformat()
    start = json.loads((folder.root / "truth" / "summary.json").read_text())["history_start"]
    for name, fld in (
        ("invoices", "issued_on"),
        ("payments", "paid_on"),
        ("shipments", "shipped_on"),
        ("pledges", "pledged_on"),
    ):
        values = [r[fld] for r in folder.rows(name)]
        assert max(values) <= as_of, name
    assert min(r["issued_on"] for r in folder.rows("invoices")) >= start
    invoices = folder.by_id("invoices")
    for pay in folder.rows("payments"):
        inv = invoices[pay["invoice_id"]]
        gross = int(inv["amount"]) + int(inv["tax"])
        assert pay["payer_id"] == inv["buyer_id"] and pay["payee_id"] == inv["seller_id"]
        assert pay["paid_on"] > inv["issued_on"]
        if inv["status"] == "paid":
            assert int(pay["amount"]) == gross
        else:
            assert inv["status"] == "partially_paid" and int(pay["amount"]) < gross
    # Nothing happens to a firm before it was founded.
    founded = {e["id"]: e["founded_on"] for e in folder.rows("enterprises")}
    for c in folder.rows("contracts"):
        assert c["signed_on"] > max(founded[c["seller_id"]], founded[c["buyer_id"]]), c
    for i in invoices.values():
        assert i["issued_on"] > max(founded[i["seller_id"]], founded[i["buyer_id"]]), i
    for h in folder.rows("holdings"):
        assert h["since"] >= founded[h["enterprise_id"]], h
    for g in folder.rows("guarantees"):
        assert g["signed_on"] > founded[g["beneficiary_id"]], g
        assert g["guarantor_kind"] == "person" or g["signed_on"] > founded[g["guarantor_id"]]
    # Per firm, the stakes held in it add up to 100%.
    stakes: dict[str, float] = defaultdict(float)
    for h in folder.rows("holdings"):
        stakes[h["enterprise_id"]] += float(h["pct"])
    assert len(stakes) == N
    assert all(abs(v - 100) < 1e-6 for v in stakes.values())


def test_scale_of_the_economy(folder: Folder) -> None:
    assert 8 <= len(folder.rows("invoices")) / N <= 15
    assert len(folder.rows("persons")) == round(0.8 * N)
    # Records per firm follow the generator's weights (0..4, mean 1.55): the sample mean lies
    # within five standard errors of it.
    per_firm = Counter(t["enterprise_id"] for t in folder.truth_csv("enterprise_record_clusters"))
    counts = [per_firm.get(e["id"], 0) for e in folder.rows("enterprises")]
    assert sum(counts) == len(folder.rows("enterprise_records"))
    assert set(counts) <= set(range(len(RECORD_COUNT_WEIGHTS)))
    mean = sum(k * w for k, w in enumerate(RECORD_COUNT_WEIGHTS))
    sd = math.sqrt(sum((k - mean) ** 2 * w for k, w in enumerate(RECORD_COUNT_WEIGHTS)))
    assert abs(statistics.fmean(counts) - mean) < 5 * sd / math.sqrt(N), statistics.fmean(counts)
    cores = [e for e in folder.rows("enterprises") if e["is_core"] == "true"]
    assert len(cores) >= 5
    names = [e["name"] for e in folder.rows("enterprises")]
    assert len(set(names)) == N
    assert all(re.search(r"(公司|合作社)$", n) for n in names)
    chains = {e["chain"] for e in folder.truth_csv("enterprises") if e["chain"]}
    assert chains == {"beef", "copper", "silk", "steel", "electronics"}
    assert any(e["second_chain"] for e in folder.truth_csv("enterprises"))
    goods = {(g["input_id"], g["output_id"]) for g in folder.rows("goods_inputs")}
    assert {
        ("G-BEEF-CATTLE", "G-BEEF-CARCASS"),
        ("G-BEEF-CARCASS", "G-BEEF-CUTS"),
        ("G-CU-ORE", "G-CU-CONC"),
        ("G-CU-CONC", "G-CU-CATHODE"),
        ("G-CU-CATHODE", "G-CU-ROD"),
        ("G-CU-ROD", "G-CU-CABLE"),
    } <= goods
    kinds = Counter(s["kind"] for s in folder.rows("sensors"))
    assert kinds["rfid_tag"] and kinds["scale"] and kinds["gps"]
    assert {a["kind"] for a in folder.rows("assets")} >= {"livestock", "warehouse_receipt"}


# -- identifiers ----------------------------------------------------------------------------


def test_usccs_are_valid_except_deliberately_broken_records(folder: Folder) -> None:
    uscc_of = {}
    for e in folder.rows("enterprises"):
        assert validate_uscc(e["uscc"]).ok, e
        assert e["uscc"][2:8] == e["region_code"]
        uscc_of[e["id"]] = e["uscc"]
    assert len(set(uscc_of.values())) == N
    truth = {t["record_id"]: t for t in folder.truth_csv("enterprise_record_clusters")}
    seen = Counter()
    for rec in folder.rows("enterprise_records"):
        t = truth[rec["record_id"]]
        variants = set(t["variants"].split(";")) - {""}
        real = uscc_of[t["enterprise_id"]]
        if "uscc_missing" in variants:
            assert rec["uscc"] == ""
        elif "uscc_check_fail" in variants:
            check = validate_uscc(rec["uscc"])
            assert check.well_formed and not check.ok
        elif "uscc_malformed" in variants:
            assert not validate_uscc(rec["uscc"]).well_formed
        elif "uscc_full_width" in variants:
            assert rec["uscc"] != real and normalise_uscc(rec["uscc"]) == real
        else:
            assert rec["uscc"] == real
        if rec["legacy_org_code"]:
            assert rec["legacy_org_code"].replace("-", "") == real[8:17]
        seen.update(variants)
    for variant in (
        "uscc_missing",
        "uscc_check_fail",
        "uscc_malformed",
        "uscc_full_width",
        "traditional",
        "region_in_brackets",
        "typo_trade_name",
        "legal_form_missing",
        "legacy_org_code",
    ):
        assert seen[variant] > 0, variant


def test_dirty_records_spell_the_registered_name_in_known_ways(folder: Folder) -> None:
    s2t = opencc.OpenCC("s2t")
    names = {e["id"]: e["name"] for e in folder.rows("enterprises")}
    truth = {t["record_id"]: t for t in folder.truth_csv("enterprise_record_clusters")}
    assert set(truth) == {r["record_id"] for r in folder.rows("enterprise_records")}
    for rec in folder.rows("enterprise_records"):
        t = truth[rec["record_id"]]
        variants = set(t["variants"].split(";")) - {""}
        real = names[t["enterprise_id"]]
        if "traditional" in variants:
            assert rec["name"] != real and s2t.convert(real) == rec["name"]
        elif "region_in_brackets" in variants:
            assert re.search(r"[（(].+[）)]", rec["name"])
            assert sorted(re.sub(r"[（()）]", "", rec["name"])) == sorted(real)
        elif "typo_trade_name" in variants and not variants & {
            "legal_form_missing",
            "region_missing",
            "legal_form_different",
        }:
            assert len(rec["name"].strip()) == len(real)
            diff = sum(a != b for a, b in zip(rec["name"].strip(), real, strict=True))
            assert diff == 1
        elif not variants & {
            "legal_form_missing",
            "region_missing",
            "legal_form_different",
            "whitespace",
            "typo_trade_name",
        }:
            assert rec["name"] == real
    # Record order reveals nothing: the records of one firm are not all adjacent.
    order = [truth[r["record_id"]]["enterprise_id"] for r in folder.rows("enterprise_records")]
    adjacent = sum(a == b for a, b in itertools.pairwise(order))
    assert adjacent < 0.1 * len(order)


def test_hard_negatives_are_different_firms_with_near_identical_names(folder: Folder) -> None:
    ents = folder.by_id("enterprises")
    pairs = folder.truth_csv("hard_negatives")
    assert len(pairs) >= 3
    kinds = Counter(p["kind"] for p in pairs)
    assert kinds["look_alike_trade_name"] and kinds["same_trade_name_other_region"]
    for p in pairs:
        a, b = ents[p["enterprise_id_a"]], ents[p["enterprise_id_b"]]
        assert a["name"] != b["name"] and a["uscc"] != b["uscc"]
        if p["kind"] == "look_alike_trade_name":
            assert len(a["name"]) == len(b["name"])
            assert sum(x != y for x, y in zip(a["name"], b["name"], strict=True)) == 1
        else:
            assert a["region_code"][:2] != b["region_code"][:2]


# -- determinism ----------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(folder: Folder, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", N, SEED)
    other = generate(tmp_path / "other", N, SEED + 1)
    assert _digest(folder.root) == _digest(again.out_dir)
    other_digest = _digest(other.out_dir)
    assert other_digest.keys() == _digest(folder.root).keys()
    differing = [k for k, v in _digest(folder.root).items() if other_digest[k] != v]
    assert "data/enterprises.csv" in differing and "data/invoices.csv" in differing


def test_too_few_enterprises_or_an_unwritable_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(IngestError, match="at least"):
        generate(tmp_path, 10, 1)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(IngestError, match="cannot write") as info:
        generate(blocker, 300, 1)
    assert isinstance(info.value.__cause__, OSError)


# -- structure ------------------------------------------------------------------------------


def _trade_graph(folder: Folder, skip_contracts: set[str]) -> nx.DiGraph:
    g = nx.DiGraph()
    for c in folder.rows("contracts"):
        if c["id"] not in skip_contracts:
            g.add_edge(c["seller_id"], c["buyer_id"])
    return g


def _ring_contracts(folder: Folder) -> set[str]:
    return {c for ring in folder.truth_jsonl("circular_trade_rings") for c in ring["contract_ids"]}  # type: ignore[attr-defined]


def test_tiers_run_five_upstream_and_three_downstream_of_the_cores(folder: Folder) -> None:
    g = _trade_graph(folder, _ring_contracts(folder))
    truth = folder.truth_csv("enterprises")
    cores = [t["enterprise_id"] for t in truth if t["position"] == "core"]
    down = nx.multi_source_dijkstra_path_length(g, cores)
    up = nx.multi_source_dijkstra_path_length(g.reverse(copy=False), cores)
    tiers: dict[str, set[int]] = defaultdict(set)
    for t in truth:
        if t["is_shell"] == "true":
            continue
        tier = int(t["tier"])
        dist = up if t["position"] == "upstream" else down
        assert dist.get(t["enterprise_id"]) == tier, t
        tiers[t["position"]].add(tier)
    assert tiers["upstream"] == {1, 2, 3, 4, 5}
    assert tiers["downstream"] == {1, 2, 3}


def test_trade_degrees_are_heavy_tailed(folder: Folder) -> None:
    g = _trade_graph(folder, set()).to_undirected()
    degrees = [d for _, d in g.degree()]
    assert max(degrees) >= 10 * statistics.median(degrees)


# -- planted patterns -----------------------------------------------------------------------


def test_circular_trade_rings_cycle_without_goods(folder: Folder) -> None:
    invoices = folder.by_id("invoices")
    shipped = {s["invoice_id"] for s in folder.rows("shipments")}
    payments = defaultdict(list)
    for p in folder.rows("payments"):
        payments[p["invoice_id"]].append(p)
    holders = defaultdict(set)
    for h in folder.rows("holdings"):
        holders[h["enterprise_id"]].add(h["holder_id"])
    rings = folder.truth_jsonl("circular_trade_rings")
    assert len(rings) >= 3
    for ring in rings:
        members: list[str] = ring["members"]  # type: ignore[assignment]
        k = len(members)
        assert 3 <= k <= 6
        assert all(ring["controller_id"] in holders[m] for m in members)
        ids: list[str] = ring["invoice_ids"]  # type: ignore[assignment]
        assert len(ids) % k == 0 and len(ids) >= 2 * k
        for start in range(0, len(ids), k):
            legs = [invoices[i] for i in ids[start : start + k]]
            for j, inv in enumerate(legs):
                assert inv["seller_id"] == members[j]
                assert inv["buyer_id"] == members[(j + 1) % k]
                assert inv["id"] not in shipped
                assert len(payments[inv["id"]]) == 1
            amounts = [int(inv["amount"]) for inv in legs]
            assert max(amounts) <= min(amounts) * 1.02, "the money goes round almost whole"
            days = [date.fromisoformat(inv["issued_on"]) for inv in legs]
            assert (max(days) - min(days)).days <= 30


def test_shell_clusters_share_contacts_are_new_and_invoice_big(folder: Folder) -> None:
    ents = folder.by_id("enterprises")
    reps = {
        r["enterprise_id"]: r["person_id"]
        for r in folder.rows("roles")
        if r["kind"] == "legal_representative"
    }
    invoices = folder.by_id("invoices")
    shipped = {s["invoice_id"] for s in folder.rows("shipments")}
    clusters = folder.truth_jsonl("shell_clusters")
    assert len(clusters) >= 2
    for c in clusters:
        members = [ents[m] for m in c["members"]]  # type: ignore[attr-defined]
        assert len(members) >= 3
        shared = set(c["shared"])  # type: ignore[arg-type]
        assert shared
        if "address" in shared:
            assert {m["address_id"] for m in members} == {c["address_id"]}
        if "phone" in shared:
            assert {m["phone_id"] for m in members} == {c["phone_id"]}
        if "legal_representative" in shared:
            assert {reps[m["id"]] for m in members} == {c["legal_rep_id"]}
        for m in members:
            assert (folder.as_of - date.fromisoformat(m["founded_on"])).days <= 320
            assert int(m["registered_capital"]) <= 10_000_000
        for inv_id in c["invoice_ids"]:  # type: ignore[attr-defined]
            inv = invoices[inv_id]
            assert inv["id"] not in shipped
            assert int(inv["amount"]) > int(ents[inv["seller_id"]]["registered_capital"])


def test_only_planted_invoices_lack_goods(folder: Folder) -> None:
    shipped = {s["invoice_id"] for s in folder.rows("shipments")}
    paid = {p["invoice_id"] for p in folder.rows("payments")}
    unmatched = {u["invoice_id"] for u in folder.truth_csv("unmatched_invoices")}
    assert len(unmatched) >= 5
    assert not unmatched & (shipped | paid)
    rings = {i for r in folder.truth_jsonl("circular_trade_rings") for i in r["invoice_ids"]}  # type: ignore[attr-defined]
    shells = {i for c in folder.truth_jsonl("shell_clusters") for i in c["invoice_ids"]}  # type: ignore[attr-defined]
    without_goods = {
        i["id"] for i in folder.rows("invoices") if i["id"] not in shipped and i["status"] != "void"
    }
    assert without_goods == unmatched | rings | shells


def test_trade_noise_changes_only_shipments_and_keeps_the_truth_exact(
    folder: Folder, tmp_path: Path
) -> None:
    """With trade noise, genuine sellers lose shipment records and fraud fakes them; the same
    seed still gives the same firms, invoices and payments, and the truth says which is which."""
    noisy = Folder(generate(tmp_path / "noisy", N, SEED, trade_noise=TradeNoise()).out_dir)
    base, other = _digest(folder.root), _digest(noisy.root)
    differing = {k for k in base if base[k] != other.get(k)}
    assert "data/shipments.csv" in differing
    assert not {k for k in differing if k.startswith("data/")} - {
        "data/shipments.csv",
        "data/manifest.json",
    }
    assert "truth/logistics_gaps.csv" in other and "truth/logistics_gaps.csv" not in base

    shipped = {s["invoice_id"] for s in noisy.rows("shipments")}
    gaps = {g["invoice_id"] for g in noisy.truth_csv("logistics_gaps")}
    unmatched = {u["invoice_id"] for u in noisy.truth_csv("unmatched_invoices")}
    rings = noisy.truth_jsonl("circular_trade_rings")
    shells = noisy.truth_jsonl("shell_clusters")
    assert {bool(r["shipped"]) for r in rings} == {True, False}
    fraud_unshipped = {
        i
        for p in rings + shells
        if not p["shipped"]
        for i in p["invoice_ids"]  # type: ignore[attr-defined]
    }
    for p in rings + shells:
        if p["shipped"]:
            goods = [i for i in p["invoice_ids"] if noisy.by_id("invoices")[i]["goods_id"]]  # type: ignore[attr-defined]
            assert goods and set(goods) <= shipped, "shipped fraud fakes a record per invoice"
    without_goods = {
        i["id"] for i in noisy.rows("invoices") if i["id"] not in shipped and i["status"] != "void"
    }
    assert without_goods == unmatched | fraud_unshipped | gaps
    # Gaps fall on genuine trade: about 5% of sellers, 20-60% of their invoices, all paid as usual.
    assert not gaps & (unmatched | fraud_unshipped)
    genuine = [i for i in noisy.rows("invoices") if i["id"] not in unmatched | fraud_unshipped]
    share = len(gaps) / len(genuine)
    assert 0.002 < share < 0.05, share
    statuses = {noisy.by_id("invoices")[i]["status"] for i in gaps}
    assert statuses <= {"paid", "partially_paid", "issued", "overdue"} and "paid" in statuses


def test_duplicate_pledges_sit_in_two_live_financings(folder: Folder) -> None:
    fins = folder.by_id("financings")
    live_pledges = defaultdict(set)
    for p in folder.rows("pledges"):
        if fins[p["financing_id"]]["status"] == "live":
            live_pledges[(p["collateral_kind"], p["collateral_id"])].add(p["financing_id"])
    doubled = {k for k, v in live_pledges.items() if len(v) > 1}
    dups = folder.truth_jsonl("duplicate_pledges")
    assert len(dups) >= 3
    assert {d["collateral_kind"] for d in dups} == {"invoice", "asset"}
    assert doubled == {(d["collateral_kind"], d["collateral_id"]) for d in dups}
    for d in dups:
        key = (d["collateral_kind"], d["collateral_id"])
        assert live_pledges[key] == set(d["financing_ids"])  # type: ignore[arg-type]
        assert len({fins[f]["lender"] for f in live_pledges[key]}) == 2
    # Apart from the planted ones, no collateral is pledged twice at all.
    counts = Counter((p["collateral_kind"], p["collateral_id"]) for p in folder.rows("pledges"))
    assert {k for k, c in counts.items() if c > 1} == doubled


def test_guarantee_circles_are_the_only_guarantee_cycles(folder: Folder) -> None:
    g = nx.DiGraph()
    by_id = folder.by_id("guarantees")
    for row in folder.rows("guarantees"):
        if row["guarantor_kind"] == "enterprise":
            g.add_edge(row["guarantor_id"], row["beneficiary_id"])
    sccs = {frozenset(c) for c in nx.strongly_connected_components(g) if len(c) > 1}
    circles = folder.truth_jsonl("guarantee_circles")
    assert len(circles) >= 3
    assert sccs == {frozenset(c["members"]) for c in circles}  # type: ignore[arg-type]
    for c in circles:
        members: list[str] = c["members"]  # type: ignore[assignment]
        assert 2 <= len(members) <= 6
        for j, gid in enumerate(c["guarantee_ids"]):  # type: ignore[arg-type]
            assert by_id[gid]["guarantor_id"] == members[j]
            assert by_id[gid]["beneficiary_id"] == members[(j + 1) % len(members)]


def test_equity_cycles_are_the_only_ownership_cycles(folder: Folder) -> None:
    g = nx.DiGraph()
    for h in folder.rows("holdings"):
        if h["holder_kind"] == "enterprise":
            g.add_edge(h["holder_id"], h["enterprise_id"])
    sccs = {frozenset(c) for c in nx.strongly_connected_components(g) if len(c) > 1}
    planted = folder.truth_jsonl("equity_cycles")
    assert {p["kind"] for p in planted} == {"cross_holding", "cycle"}
    assert sccs == {frozenset(p["members"]) for p in planted}  # type: ignore[arg-type]
    # Multi-level groups: some firm's parent has a parent of its own.
    parent = {t["enterprise_id"]: t["parent_id"] for t in folder.truth_csv("enterprises")}
    assert any(p and parent.get(p) for p in parent.values())


def test_defaults_spread_along_exposures_and_stop_payments(folder: Folder) -> None:
    truth = {t["enterprise_id"]: t for t in folder.truth_csv("defaults")}
    month = {e: int(t["default_month"]) for e, t in truth.items() if t["default_month"]}
    base = len(month) / N
    assert 0.02 <= base <= 0.25
    assert any(t["defaulted_within_12m_after_asof"] == "true" for t in truth.values())
    assert any(t["defaulted_by_asof"] == "true" for t in truth.values())
    neighbours = defaultdict(set)
    for c in folder.rows("contracts"):
        neighbours[c["seller_id"]].add(c["buyer_id"])
        neighbours[c["buyer_id"]].add(c["seller_id"])
    for g in folder.rows("guarantees"):
        if g["guarantor_kind"] == "enterprise":
            neighbours[g["guarantor_id"]].add(g["beneficiary_id"])
            neighbours[g["beneficiary_id"]].add(g["guarantor_id"])
    exposed = [e for e in truth if any(n in month for n in neighbours[e])]
    rate = sum(e in month for e in exposed) / len(exposed)
    assert rate > 1.5 * base, (rate, base)
    # A defaulted buyer pays nothing after its default date and receives nothing new.
    default_on = {e: t["default_on"] for e, t in truth.items() if t["defaulted_by_asof"] == "true"}
    invoices = folder.by_id("invoices")
    for p in folder.rows("payments"):
        d = default_on.get(p["payer_id"])
        assert d is None or p["paid_on"] < d, p
    late = [
        i
        for i in invoices.values()
        if i["buyer_id"] in default_on and i["issued_on"] > default_on[i["buyer_id"]]
    ]
    assert not late
    overdue = [
        i for i in invoices.values() if i["buyer_id"] in default_on and i["status"] == "overdue"
    ]
    assert overdue
