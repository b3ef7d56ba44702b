"""Point-in-time graph data for the learned scores, built from ingest-format tables.

The source is a folder of tables in the ingest format (``docs/ingest-format.md``): the CSV or
JSON Lines files the generator writes, or the Parquet pages that ``gnn.export`` streams out of
Neo4j. DuckDB aggregates them out of core (bounded memory whatever their size), keeping only
what existed on the scoring date ``as_of``: invoices issued, payments made, goods shipped,
guarantees signed and holdings acquired by then. The result, a :class:`ChainGraph`, is plain
numpy: enterprise features, typed relations with edge features, and the exposure network.
``to_hetero`` turns it into a PyG ``HeteroData``.
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from gnn.cycles import CYCLE_FEATURES, cycle_features
from gnn.errors import DatasetError
from gnn.payments import (
    PAYMENT_FEATURES,
    TRADE_PAYMENT_EDGE_FEATURES,
    payment_features,
    trade_payment_edge_features,
)

# Columns (and DuckDB types) of each table that scoring uses; other columns are ignored.
TABLES: dict[str, dict[str, str]] = {
    "enterprises": {
        "id": "VARCHAR",
        "registered_capital": "BIGINT",
        "founded_on": "DATE",
        "is_core": "BOOLEAN",
        "address_id": "VARCHAR",
        "phone_id": "VARCHAR",
    },
    "invoices": {
        "id": "VARCHAR",
        "seller_id": "VARCHAR",
        "buyer_id": "VARCHAR",
        "amount": "BIGINT",
        "tax": "BIGINT",
        "issued_on": "DATE",
        "due_on": "DATE",
        "status": "VARCHAR",
    },
    "payments": {"invoice_id": "VARCHAR", "amount": "BIGINT", "paid_on": "DATE"},
    "shipments": {"invoice_id": "VARCHAR", "shipped_on": "DATE", "received_on": "DATE"},
    "guarantees": {
        "guarantor_id": "VARCHAR",
        "guarantor_kind": "VARCHAR",
        "beneficiary_id": "VARCHAR",
        "amount": "BIGINT",
        "signed_on": "DATE",
        "expires_on": "DATE",
    },
    "holdings": {
        "holder_id": "VARCHAR",
        "holder_kind": "VARCHAR",
        "enterprise_id": "VARCHAR",
        "pct": "DOUBLE",
        "since": "DATE",
    },
    "roles": {"person_id": "VARCHAR", "enterprise_id": "VARCHAR", "kind": "VARCHAR"},
}

ROLE_KINDS = ("legal_representative", "director", "supervisor", "executive", "shareholder_rep")

# Computed in SQL, in this order.
_TABLE_FEATURES: tuple[str, ...] = (
    "log_capital",
    "age_years",
    "age_missing",
    "is_core",
    "sales_n",
    "sales_log_amount",
    "sales_log_amount_90d",
    "buyers_n",
    "purchases_n",
    "purchases_log_amount",
    "purchases_log_amount_90d",
    "sellers_n",
    "sales_shipped_share",
    "sales_paid_share",
    "purchases_paid_share",
    "purchases_overdue_share",
    "receivable_log_unpaid",
    "payable_log_overdue",
    "pay_days_mean",
    "max_invoice_over_capital",
    "days_to_first_sale",
    "sales_growth_90d",
    "guarantees_given_n",
    "guarantees_given_log",
    "guarantees_received_n",
    "guarantees_received_log",
    "holders_n",
    "holdings_n",
    "address_shared_n",
    "phone_shared_n",
    "legal_rep_shared_n",
    "years_since_last_trade",
    "trade_gap_years",
    "silence_over_gap",
    "leverage_log",
)
ENTERPRISE_FEATURES: tuple[str, ...] = (
    *_TABLE_FEATURES,
    "standalone_pd",  # derived in numpy from the above, see standalone_pd_of
    *CYCLE_FEATURES,  # the trade graph's return walks, see gnn.cycles
    *PAYMENT_FEATURES,  # how money moves through the firm in time, see gnn.payments
)
AMOUNT_FEATURES = ("sales_log_amount", "purchases_log_amount", "max_invoice_over_capital")
DEGREE_FEATURES = ("sales_n", "purchases_n", "buyers_n", "sellers_n")

TRADE_EDGE_FEATURES: tuple[str, ...] = (
    "log_amount",
    "log_n",
    "shipped_share",
    "paid_share",
    "log_amount_90d",
    "years_since_last",
    "years_since_first",
    "log_unpaid",
    "log_overdue",
    "pay_days",
    "log_leverage",
)
# The trade edges' features: the invoices' above, then the payments' (gnn.payments).
TRADE_EDGE_ALL_FEATURES = (*TRADE_EDGE_FEATURES, *TRADE_PAYMENT_EDGE_FEATURES)


@dataclass
class Relation:
    """Edges ``src -> dst`` between node types, with one row of features per edge."""

    src_type: str
    dst_type: str
    src: NDArray[np.int64]
    dst: NDArray[np.int64]
    attr: NDArray[np.float32]
    attr_names: tuple[str, ...]

    @property
    def size(self) -> int:
        return int(self.src.size)


@dataclass
class ChainGraph:
    """Everything the models and baselines see about one graph on one date."""

    as_of: date
    ids: NDArray[np.object_]
    x: NDArray[np.float32]
    feature_names: tuple[str, ...]
    num_nodes: dict[str, int]
    relations: dict[str, Relation]
    exposure: sp.csr_matrix
    """Trade receivables unpaid at ``as_of`` plus guarantees in force, minor units."""
    equity: NDArray[np.float64]
    source_hash: str
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.ids.size)

    def index(self) -> dict[str, int]:
        return {str(eid): i for i, eid in enumerate(self.ids)}

    def feature(self, name: str) -> NDArray[np.float32]:
        return self.x[:, self.feature_names.index(name)]


def _source_sql(folder: Path, name: str) -> str:
    """A DuckDB relation over one table of the folder, projected to ``TABLES[name]``."""
    cols = TABLES[name]
    for suffix, reader in (
        (".parquet", "read_parquet('{p}')"),
        (".csv", "read_csv('{p}', header=true, all_varchar=true, quote='\"', escape='\"')"),
        (".jsonl", "read_json('{p}', format='newline_delimited', union_by_name=true)"),
    ):
        paths = sorted(folder.glob(f"{name}{suffix}")) + sorted(folder.glob(f"{name}/*{suffix}"))
        if not paths:
            continue
        plist = "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"
        src = reader.format(p="{p}").replace("'{p}'", plist)
        # Columns that a source lacks come out NULL rather than failing the whole read.
        present = _columns(src)
        proj = ", ".join(
            f"TRY_CAST({_q(c)} AS {t}) AS {_q(c)}" if c in present else f"NULL::{t} AS {_q(c)}"
            for c, t in cols.items()
        )
        return f"(SELECT {proj} FROM {src})"
    empty = ", ".join(f"NULL::{t} AS {_q(c)}" for c, t in cols.items())
    return f"(SELECT {empty} WHERE false)"


def _q(col: str) -> str:
    return '"' + col + '"'


def _columns(src: str) -> set[str]:
    with duckdb.connect() as con:
        return {str(r[0]) for r in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}


def _hash_folder(folder: Path) -> str:
    """A cheap content fingerprint: names, sizes and the first 1 MiB of each table."""
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.suffix in {".csv", ".jsonl", ".parquet", ".json"}:
            h.update(str(p.relative_to(folder)).encode())
            h.update(str(p.stat().st_size).encode())
            with p.open("rb") as f:
                h.update(f.read(1 << 20))
    return h.hexdigest()[:16]


def _connect(folder: Path, threads: int) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET threads={max(1, threads)}")
    con.execute("SET memory_limit='2GB'")
    con.execute("SET preserve_insertion_order=false")
    for name in TABLES:
        con.execute(f"CREATE VIEW {name} AS {_source_sql(folder, name)}")
    return con


def latest_date(folder: str | Path) -> date:
    """The last invoice date in the folder: the natural scoring date of a data drop."""
    with _connect(Path(folder), 1) as con:
        row = con.execute("SELECT max(issued_on) FROM invoices").fetchone()
    if row is None or row[0] is None:
        raise DatasetError(f"no dated invoices in {folder}")
    return row[0]  # type: ignore[no-any-return]


_ENTERPRISE_SQL = """
CREATE TEMP TABLE ent AS
SELECT row_number() OVER (ORDER BY id) - 1 AS idx, *
FROM (SELECT DISTINCT ON (id) * FROM enterprises WHERE id IS NOT NULL) ORDER BY id;

CREATE TEMP TABLE inv AS
SELECT i.id, s.idx AS s, b.idx AS b, i.amount, coalesce(i.tax, 0) AS tax, i.issued_on,
       i.due_on, i.status
FROM invoices i JOIN ent s ON s.id = i.seller_id JOIN ent b ON b.id = i.buyer_id
WHERE i.issued_on <= $as_of AND coalesce(i.status, '') <> 'void' AND i.amount IS NOT NULL;

CREATE TEMP TABLE paid AS
SELECT invoice_id AS id, sum(amount) AS paid, min(paid_on) AS first_paid
FROM payments WHERE paid_on <= $as_of GROUP BY invoice_id;

CREATE TEMP TABLE shipped AS
SELECT DISTINCT invoice_id AS id FROM shipments WHERE shipped_on <= $as_of;

CREATE TEMP TABLE invx AS
SELECT inv.*, coalesce(p.paid, 0) AS paid, p.first_paid, sh.id IS NOT NULL AS shipped,
       greatest(inv.amount + inv.tax - coalesce(p.paid, 0), 0) AS unpaid,
       inv.due_on IS NOT NULL AND inv.due_on < $as_of
         AND inv.amount + inv.tax - coalesce(p.paid, 0) > 0 AS overdue,
       inv.issued_on > $as_of - INTERVAL 90 DAY AS recent
FROM inv LEFT JOIN paid p ON p.id = inv.id LEFT JOIN shipped sh ON sh.id = inv.id;
"""

_FEATURES_SQL = """
WITH sales AS (
  SELECT s AS idx, count(*) AS n, sum(amount) AS amt,
         sum(CASE WHEN recent THEN amount ELSE 0 END) AS amt90,
         count(DISTINCT b) AS partners, avg(shipped::INT) AS shipped_share,
         sum(least(paid, amount + tax)) / sum(amount + tax) AS paid_share,
         sum(unpaid) AS unpaid, max(amount) AS max_amount, min(issued_on) AS first_on
  FROM invx GROUP BY s),
purch AS (
  SELECT b AS idx, count(*) AS n, sum(amount) AS amt,
         sum(CASE WHEN recent THEN amount ELSE 0 END) AS amt90,
         count(DISTINCT s) AS partners,
         sum(least(paid, amount + tax)) / sum(amount + tax) AS paid_share,
         avg(overdue::INT) AS overdue_share,
         sum(CASE WHEN overdue THEN unpaid ELSE 0 END) AS overdue_amt,
         avg(CASE WHEN first_paid IS NOT NULL THEN date_diff('day', issued_on, first_paid) END)
           AS pay_days
  FROM invx GROUP BY b),
gg AS (
  SELECT e.idx, count(*) AS n, sum(g.amount) AS amt FROM guarantees g
  JOIN ent e ON e.id = g.guarantor_id
  WHERE coalesce(g.guarantor_kind, 'enterprise') = 'enterprise'
    AND coalesce(g.signed_on, $as_of) <= $as_of
    AND coalesce(g.expires_on, $as_of) >= $as_of
  GROUP BY e.idx),
gr AS (
  SELECT e.idx, count(*) AS n, sum(g.amount) AS amt FROM guarantees g
  JOIN ent e ON e.id = g.beneficiary_id
  WHERE coalesce(g.signed_on, $as_of) <= $as_of AND coalesce(g.expires_on, $as_of) >= $as_of
  GROUP BY e.idx),
holders AS (
  SELECT e.idx, count(*) AS n FROM holdings h JOIN ent e ON e.id = h.enterprise_id
  WHERE coalesce(h.since, $as_of) <= $as_of GROUP BY e.idx),
holdings_ AS (
  SELECT e.idx, count(*) AS n FROM holdings h JOIN ent e ON e.id = h.holder_id
  WHERE h.holder_kind = 'enterprise' AND coalesce(h.since, $as_of) <= $as_of GROUP BY e.idx),
addr AS (
  SELECT address_id, count(*) AS n FROM ent WHERE address_id IS NOT NULL
  GROUP BY address_id),
phone AS (
  SELECT phone_id, count(*) AS n FROM ent WHERE phone_id IS NOT NULL GROUP BY phone_id),
legal AS (
  SELECT person_id, count(DISTINCT enterprise_id) AS n FROM roles
  WHERE kind = 'legal_representative' GROUP BY person_id),
legal_e AS (
  SELECT e.idx, max(l.n) AS n FROM roles r JOIN legal l ON l.person_id = r.person_id
  JOIN ent e ON e.id = r.enterprise_id WHERE r.kind = 'legal_representative' GROUP BY e.idx),
act AS (
  SELECT idx, max(issued_on) AS last_on, min(issued_on) AS first_on, count(*) AS n FROM (
    SELECT s AS idx, issued_on FROM invx UNION ALL SELECT b, issued_on FROM invx)
  GROUP BY idx)
SELECT
  ln(1 + coalesce(ent.registered_capital, 0) / 100.0),
  coalesce(date_diff('day', ent.founded_on, $as_of) / 365.25, 0),
  (ent.founded_on IS NULL)::INT,
  coalesce(ent.is_core, false)::INT,
  ln(1 + coalesce(sales.n, 0)), ln(1 + coalesce(sales.amt, 0) / 100.0),
  ln(1 + coalesce(sales.amt90, 0) / 100.0), ln(1 + coalesce(sales.partners, 0)),
  ln(1 + coalesce(purch.n, 0)), ln(1 + coalesce(purch.amt, 0) / 100.0),
  ln(1 + coalesce(purch.amt90, 0) / 100.0), ln(1 + coalesce(purch.partners, 0)),
  coalesce(sales.shipped_share, 1), coalesce(sales.paid_share, 1),
  coalesce(purch.paid_share, 1), coalesce(purch.overdue_share, 0),
  ln(1 + coalesce(sales.unpaid, 0) / 100.0), ln(1 + coalesce(purch.overdue_amt, 0) / 100.0),
  coalesce(purch.pay_days, 0) / 30.0,
  ln(1 + coalesce(sales.max_amount, 0) / 100.0)
    - ln(1 + coalesce(ent.registered_capital, 0) / 100.0),
  coalesce(date_diff('day', ent.founded_on, sales.first_on) / 365.25, 0),
  CASE WHEN coalesce(sales.amt, 0) > 0 THEN sales.amt90 / sales.amt ELSE 0 END,
  ln(1 + coalesce(gg.n, 0)), ln(1 + coalesce(gg.amt, 0) / 100.0),
  ln(1 + coalesce(gr.n, 0)), ln(1 + coalesce(gr.amt, 0) / 100.0),
  ln(1 + coalesce(holders.n, 0)), ln(1 + coalesce(holdings_.n, 0)),
  ln(coalesce(addr.n, 1)), ln(coalesce(phone.n, 1)), ln(coalesce(legal_e.n, 1)),
  coalesce(date_diff('day', act.last_on, $as_of) / 365.25, 0),
  coalesce(date_diff('day', act.first_on, act.last_on) / 365.25 / act.n, 0),
  least(coalesce(date_diff('day', act.last_on, $as_of)
        / greatest(date_diff('day', act.first_on, act.last_on) / act.n, 1), 0), 50) / 10.0,
  ln(1 + (coalesce(sales.unpaid, 0) + coalesce(gg.amt, 0))
         / coalesce(nullif(ent.registered_capital, 0), $fill))
FROM ent
LEFT JOIN sales ON sales.idx = ent.idx LEFT JOIN purch ON purch.idx = ent.idx
LEFT JOIN gg ON gg.idx = ent.idx LEFT JOIN gr ON gr.idx = ent.idx
LEFT JOIN holders ON holders.idx = ent.idx LEFT JOIN holdings_ ON holdings_.idx = ent.idx
LEFT JOIN addr ON addr.address_id = ent.address_id
LEFT JOIN phone ON phone.phone_id = ent.phone_id
LEFT JOIN legal_e ON legal_e.idx = ent.idx
LEFT JOIN act ON act.idx = ent.idx
ORDER BY ent.idx
"""

_TRADE_EDGES_SQL = """
SELECT s, b,
  ln(1 + sum(amount) / 100.0), ln(1 + count(*)), avg(shipped::INT),
  sum(least(paid, amount + tax)) / sum(amount + tax),
  ln(1 + sum(CASE WHEN recent THEN amount ELSE 0 END) / 100.0),
  date_diff('day', max(issued_on), $as_of) / 365.25,
  date_diff('day', min(issued_on), $as_of) / 365.25,
  ln(1 + sum(unpaid) / 100.0), ln(1 + sum(CASE WHEN overdue THEN unpaid ELSE 0 END) / 100.0),
  coalesce(avg(date_diff('day', issued_on, first_paid)), 0) / 30.0,
  ln(1 + sum(unpaid) / any_value(coalesce(nullif(e.registered_capital, 0), $fill))),
  sum(unpaid)
FROM invx JOIN ent e ON e.idx = invx.s WHERE s <> b GROUP BY s, b ORDER BY s, b
"""

_GUARANTEE_EDGES_SQL = """
SELECT g_.idx, b_.idx, ln(1 + sum(g.amount) / 100.0), ln(1 + count(*)),
  ln(1 + sum(g.amount) / any_value(coalesce(nullif(g_.registered_capital, 0), $fill))),
  sum(g.amount)
FROM guarantees g JOIN ent g_ ON g_.id = g.guarantor_id JOIN ent b_ ON b_.id = g.beneficiary_id
WHERE coalesce(g.guarantor_kind, 'enterprise') = 'enterprise'
  AND coalesce(g.signed_on, $as_of) <= $as_of AND coalesce(g.expires_on, $as_of) >= $as_of
  AND g_.idx <> b_.idx
GROUP BY g_.idx, b_.idx ORDER BY 1, 2
"""

_HOLDS_EE_SQL = """
SELECT h_.idx, t.idx, sum(h.pct) / 100.0 FROM holdings h
JOIN ent h_ ON h_.id = h.holder_id JOIN ent t ON t.id = h.enterprise_id
WHERE h.holder_kind = 'enterprise' AND coalesce(h.since, $as_of) <= $as_of AND h_.idx <> t.idx
GROUP BY 1, 2 ORDER BY 1, 2
"""

# One row per payment made by the scoring date: payer (the invoice's buyer), payee, amount, day.
_PAYMENTS_SQL = """
SELECT inv.b, inv.s, p.amount, date_diff('day', DATE '2000-01-01', p.paid_on)
FROM payments p JOIN inv ON inv.id = p.invoice_id
WHERE p.paid_on <= $as_of AND p.amount IS NOT NULL AND inv.b <> inv.s
"""

_PERSONS_SQL = """
CREATE TEMP TABLE person AS
SELECT row_number() OVER (ORDER BY pid) - 1 AS pidx, pid FROM (
  SELECT holder_id AS pid FROM holdings WHERE holder_kind = 'person'
  UNION SELECT person_id FROM roles) WHERE pid IS NOT NULL;
"""

_PERSON_EDGES_SQL = f"""
SELECT p.pidx, e.idx, sum(h.pct) / 100.0 AS pct,
  {", ".join(f"0.0 AS r{i}" for i in range(len(ROLE_KINDS)))}
FROM holdings h JOIN person p ON p.pid = h.holder_id JOIN ent e ON e.id = h.enterprise_id
WHERE h.holder_kind = 'person' AND coalesce(h.since, $as_of) <= $as_of GROUP BY 1, 2
UNION ALL
SELECT p.pidx, e.idx, 0.0,
  {", ".join(f"max((r.kind = '{k}')::DOUBLE)" for k in ROLE_KINDS)}
FROM roles r JOIN person p ON p.pid = r.person_id JOIN ent e ON e.id = r.enterprise_id
GROUP BY 1, 2
"""

_CONTACT_SQL = """
SELECT idx, dense_rank() OVER (ORDER BY {col}) - 1 FROM ent WHERE {col} IS NOT NULL
ORDER BY idx
"""


def build_graph(folder: str | Path, as_of: date | None = None, *, threads: int = 1) -> ChainGraph:
    """Features and relations of the tables in ``folder`` as they stood on ``as_of``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DatasetError(f"no such folder: {folder}")
    at = as_of if as_of is not None else latest_date(folder)
    params: dict[str, Any] = {"as_of": at}
    with _connect(folder, threads) as con:
        try:
            for stmt in _ENTERPRISE_SQL.split(";"):
                if stmt.strip():
                    con.execute(stmt, params if "$as_of" in stmt else None)
            ids = np.array(
                [r[0] for r in con.execute("SELECT id FROM ent ORDER BY idx").fetchall()],
                dtype=object,
            )
            if ids.size == 0:
                raise DatasetError(f"no enterprises in {folder}")
            n = int(ids.size)
            fill_row = con.execute(
                "SELECT median(registered_capital) FROM ent WHERE registered_capital > 0"
            ).fetchone()
            params["fill"] = float(fill_row[0]) if fill_row and fill_row[0] else 1e8
            x = _fetch(con, _FEATURES_SQL, params).astype(np.float32)
            trade = _fetch(con, _TRADE_EDGES_SQL, params)
            guar = _fetch(con, _GUARANTEE_EDGES_SQL, params)
            holds = _fetch(con, _HOLDS_EE_SQL, params)
            pay = _fetch(con, _PAYMENTS_SQL, params)
            con.execute(_PERSONS_SQL)
            n_person = int(con.execute("SELECT count(*) FROM person").fetchone()[0])  # type: ignore[index]
            pe = _fetch(con, _PERSON_EDGES_SQL, params)
            addr = _fetch(con, _CONTACT_SQL.format(col="address_id"), None)
            phone = _fetch(con, _CONTACT_SQL.format(col="phone_id"), None)
            capital = np.asarray(
                [
                    r[0]
                    for r in con.execute(
                        "SELECT coalesce(registered_capital, 0) FROM ent ORDER BY idx"
                    ).fetchall()
                ],
                dtype=np.float64,
            )
        except duckdb.Error as e:
            raise DatasetError(f"cannot read the tables in {folder}: {e}") from e

    if pay.size == 0:
        pay = np.zeros((0, 4))
    payer, payee = pay[:, 0].astype(np.int64), pay[:, 1].astype(np.int64)
    pay_amount, pay_day = pay[:, 2], pay[:, 3].astype(np.int64)
    trade_rel = _relation("enterprise", "enterprise", trade, TRADE_EDGE_FEATURES, 11)
    trade_rel = Relation(
        "enterprise",
        "enterprise",
        trade_rel.src,
        trade_rel.dst,
        np.hstack([
            trade_rel.attr,
            trade_payment_edge_features(
                n, trade_rel.src, trade_rel.dst, payer, payee, pay_amount, pay_day
            ),
        ]),
        TRADE_EDGE_ALL_FEATURES,
    )  # fmt: skip
    relations = {
        "trade": trade_rel,
        "guarantee": _relation(
            "enterprise", "enterprise", guar, ("log_amount", "log_n", "log_leverage"), 3
        ),
        "holds": _relation("enterprise", "enterprise", holds, ("share",), 1),
        "person": _relation(
            "person", "enterprise", pe, ("share", *(f"role_{k}" for k in ROLE_KINDS)), 6
        ),
        "address": _relation("enterprise", "address", addr, (), 0),
        "phone": _relation("enterprise", "phone", phone, (), 0),
    }
    n_addr = int(addr[:, 1].max()) + 1 if addr.size else 0
    n_phone = int(phone[:, 1].max()) + 1 if phone.size else 0
    exposure = sp.csr_matrix(
        (
            np.concatenate([trade[:, 13] if trade.size else [], guar[:, 5] if guar.size else []]),
            (
                np.concatenate(
                    [trade[:, 0] if trade.size else [], guar[:, 0] if guar.size else []]
                ),
                np.concatenate(
                    [trade[:, 1] if trade.size else [], guar[:, 1] if guar.size else []]
                ),
            ),
        ),
        shape=(n, n),
    )
    exposure.sum_duplicates()
    sales = relations["trade"]
    cycles = cycle_features(
        n, sales.src, sales.dst, np.expm1(sales.attr[:, 0].astype(np.float64))  # log amount
    )
    standalone = standalone_pd_of(x, _TABLE_FEATURES)[:, None].astype(np.float32)
    money = payment_features(n, payer, payee, pay_amount, pay_day)
    x = np.hstack([x, standalone, cycles, money])
    known = capital[capital > 0]
    equity = np.where(capital > 0, capital, np.median(known) if known.size else 1e8)
    return ChainGraph(
        as_of=at,
        ids=ids,
        x=x,
        feature_names=ENTERPRISE_FEATURES,
        num_nodes={"enterprise": n, "person": n_person, "address": n_addr, "phone": n_phone},
        relations=relations,
        exposure=exposure,
        equity=equity,
        source_hash=_hash_folder(folder),
    )


BASE_ANNUAL_PD = 0.03


def standalone_pd_of(x: NDArray[np.float32], names: tuple[str, ...]) -> NDArray[np.float64]:
    """Observable one-year stand-alone PD, before any contagion.

    A firm silent for over 90 days and over four of its usual gaps between invoices has
    visibly defaulted (PD 1); otherwise a base 3% rises with the overdue share of its
    payables (up to 15%).
    """

    def f(name: str) -> NDArray[np.float64]:
        return np.asarray(x[:, names.index(name)], dtype=np.float64)

    active_before = (f("sales_n") > 0) | (f("purchases_n") > 0)
    silence = f("years_since_last_trade")
    stopped = active_before & (silence > 90 / 365.25) & (silence > 4 * f("trade_gap_years"))
    overdue = np.clip(f("purchases_overdue_share"), 0.0, 1.0)
    return np.where(stopped, 1.0, BASE_ANNUAL_PD * (1.0 + 4.0 * overdue))


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None
) -> NDArray[np.float64]:
    """The result as a float64 matrix (NULL -> 0), column by column through Arrow."""
    with warnings.catch_warnings():  # the extra copy is one page of aggregates: acceptable
        warnings.simplefilter("ignore", UserWarning)
        used = {k: v for k, v in (params or {}).items() if f"${k}" in sql}
        table = (con.execute(sql, used) if used else con.execute(sql)).to_arrow_table()
    if table is None or table.num_rows == 0:
        return np.zeros((0, 0), dtype=np.float64)
    cols = [np.asarray(c.to_numpy(zero_copy_only=False), dtype=np.float64) for c in table.columns]
    return np.nan_to_num(np.column_stack(cols), nan=0.0)


def _relation(
    src_type: str, dst_type: str, rows: NDArray[np.float64], names: tuple[str, ...], width: int
) -> Relation:
    if rows.size == 0:
        return Relation(
            src_type,
            dst_type,
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros((0, width), np.float32),
            names,
        )
    return Relation(
        src_type,
        dst_type,
        rows[:, 0].astype(np.int64),
        rows[:, 1].astype(np.int64),
        rows[:, 2 : 2 + width].astype(np.float32),
        names,
    )


GOODS_FLOW_FEATURES = ("sales_shipped_share",)


def without_goods_flow(graph: ChainGraph) -> ChainGraph:
    """A copy with the goods-flow (shipment) signals blanked: features and trade edges.

    The robustness view of fraud: when shipment records are missing or forged, what the
    structure alone (rings, shared controllers and contacts) still reveals.
    """
    x = graph.x.copy()
    for name in GOODS_FLOW_FEATURES:
        x[:, graph.feature_names.index(name)] = 1.0
    trade = graph.relations["trade"]
    attr = trade.attr.copy()
    if attr.size:
        attr[:, trade.attr_names.index("shipped_share")] = 1.0
    relations = dict(graph.relations)
    relations["trade"] = Relation(
        trade.src_type, trade.dst_type, trade.src, trade.dst, attr, trade.attr_names
    )
    return ChainGraph(
        as_of=graph.as_of,
        ids=graph.ids,
        x=x,
        feature_names=graph.feature_names,
        num_nodes=graph.num_nodes,
        relations=relations,
        exposure=graph.exposure,
        equity=graph.equity,
        source_hash=graph.source_hash,
        meta={**graph.meta, "blank": "goods"},
    )
