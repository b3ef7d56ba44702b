"""Cypher for chain analytics (`graph/analytics/`): tiers, ownership, related parties,
guarantees, trade authenticity, exposure and prospects.

Traversals are iterative frontier expansions: each query expands one hop from a list of ids
(`UNWIND $frontier`) and skips the ids already seen (`$visited`), so the work is linear in
the number of relationships touched instead of in the number of paths. Labels and types come
from the model enums; the only interpolated numbers are validated path-length bounds, which
Cypher does not accept as parameters.
"""

from __future__ import annotations

from graph.model import Label, Rel

_E = Label.ENTERPRISE.value
_P = Label.PERSON.value
_SUPPLIES = Rel.SUPPLIES.value
_HOLDS = Rel.HOLDS.value
_GUARANTEES = Rel.GUARANTEES.value

ENTERPRISE_NAMES = f"""
UNWIND $ids AS id
MATCH (e:{_E} {{id: id}})
RETURN e.id AS id, e.name AS name
"""

PERSON_NAMES = f"""
UNWIND $ids AS id
MATCH (p:{_P} {{id: id}})
RETURN p.id AS id, p.name AS name
"""

# ---- tiers ---------------------------------------------------------------------------------
MAX_TIER_DEPTH = 5


def tier_walk(upstream: bool, depth: int) -> str:
    """The whole tier walk in one query: `depth` hops, each expanding the previous tier and
    skipping the firms already placed (the `visited` list), so every firm appears once at its
    minimum tier. One round trip instead of one per tier; a hop stops expanding once
    `$max_firms` firms are placed. Dates travel as ISO strings: hydrating thousands of driver
    `Date` objects costs more than the query itself. SUPPLIES only joins enterprises, so the far
    end of a hop needs no label check (a quarter of the query's time on large walks)."""
    if not 1 <= depth <= MAX_TIER_DEPTH:
        raise ValueError(f"depth must be in 1..{MAX_TIER_DEPTH}")
    near, far = ("<-", "-") if upstream else ("-", "->")
    hops = []
    for k in range(1, int(depth) + 1):
        hops.append(f"""
CALL (frontier, visited) {{
  UNWIND CASE WHEN size(visited) > $max_firms THEN [] ELSE frontier END AS y
  MATCH (y){near}[s:{_SUPPLIES}]{far}(x)
  WITH y, collect([x, s]) AS links, sum(s.amount_12m) AS total
  UNWIND links AS link
  WITH y, total, link[0] AS x, link[1] AS s
  WHERE NOT x IN visited
  RETURN collect({{x: x, via: y.id, total: coalesce(total, 0), amount: coalesce(s.amount_12m, 0),
                  invoices: coalesce(s.invoices_12m, 0), first_on: toString(s.first_on),
                  last_on: toString(s.last_on), tier: {k}}}) AS hop
}}
CALL (hop) {{ UNWIND hop AS h RETURN collect(DISTINCT h.x) AS next }}
WITH f, visited + next AS visited, next AS frontier, found + hop AS found""")
    return (
        f"MATCH (f:{_E} {{id: $id}})\n"
        "WITH f, [f] AS visited, [f] AS frontier, [] AS found"
        + "".join(hops)
        + """
RETURN f.name AS name,
       [h IN found | [h.x.id, h.x.name, h.via, h.total, h.amount, h.invoices, h.first_on,
                      h.last_on, h.tier]] AS found
"""
    )


TIER_WALK = {
    (upstream, depth): tier_walk(upstream, depth)
    for upstream in (True, False)
    for depth in range(1, MAX_TIER_DEPTH + 1)
}

# Plain reachability (no amounts) for path searches; `both` ignores the direction of trade.
_REACH_HOP = """
UNWIND $frontier AS fid
MATCH (:{e} {{id: fid}}){near}[:{rel}]{far}(x:{e})
WHERE NOT x.id IN $visited
RETURN DISTINCT x.id AS id
"""
REACH_HOP = {
    "upstream": _REACH_HOP.format(e=_E, rel=_SUPPLIES, near="<-", far="-"),
    "downstream": _REACH_HOP.format(e=_E, rel=_SUPPLIES, near="-", far="->"),
    "both": _REACH_HOP.format(e=_E, rel=_SUPPLIES, near="-", far="-"),
}

SUPPLIES_AMONG = f"""
UNWIND $ids AS sid
MATCH (s:{_E} {{id: sid}})-[r:{_SUPPLIES}]->(b:{_E})
WHERE b.id IN $ids
RETURN s.id AS seller, b.id AS buyer, coalesce(r.amount_12m, 0) AS amount
"""

MAX_SHORTEST_PATH = 12


def shortest_trade_path(max_length: int, directed: bool) -> str:
    """`shortestPath` with a validated length bound (Cypher takes no parameter there)."""
    if not 1 <= max_length <= MAX_SHORTEST_PATH:
        raise ValueError(f"max_length must be in 1..{MAX_SHORTEST_PATH}")
    arrow = "->" if directed else "-"
    return f"""
MATCH (a:{_E} {{id: $source}}), (b:{_E} {{id: $target}})
MATCH p = shortestPath((a)-[:{_SUPPLIES}*..{int(max_length)}]{arrow}(b))
RETURN [n IN nodes(p) | n.id] AS ids, [n IN nodes(p) | n.name] AS names,
       [r IN relationships(p) | {{seller: startNode(r).id, buyer: endNode(r).id,
                                  amount: coalesce(r.amount_12m, 0)}}] AS hops
"""


# The naive tier query, kept for the benchmark and the tests: the same answer (each firm's
# minimum tier and its links toward the focal firm) written as one variable-length path.
# Because it projects the path's first relationship, the planner cannot prune the expansion
# to a breadth-first search and enumerates every path (exponential in depth on a dense chain).
NAIVE_UPSTREAM = f"""
MATCH p = (x:{_E})-[:{_SUPPLIES}*1..5]->(f:{_E} {{id: $id}})
WHERE x <> f
WITH x, length(p) AS hops, relationships(p)[0] AS first
WITH x, min(hops) AS tier, collect(DISTINCT first) AS links
RETURN x.id AS id, tier,
       [r IN links | {{via: endNode(r).id, amount: r.amount_12m}}] AS links
"""

# The bare minimum-tier query: Neo4j plans `min(length(p))` per end node as a pruning
# breadth-first expansion (VarLengthExpand(Pruning,BFS)), so this one does not explode; it
# answers only the tier, without volumes or shares.
MIN_TIER_ONLY = f"""
MATCH p = (x:{_E})-[:{_SUPPLIES}*1..5]->(f:{_E} {{id: $id}})
WHERE x <> f
RETURN x.id AS id, min(length(p)) AS tier
"""

# ---- ownership -----------------------------------------------------------------------------
# One hop up the holding structure: who holds the frontier enterprises.
HOLDERS_HOP = f"""
UNWIND $frontier AS fid
MATCH (e:{_E} {{id: fid}})<-[h:{_HOLDS}]-(x)
WHERE x:{_E} OR x:{_P}
RETURN fid AS held, x.id AS holder, x:{_P} AS is_person, x.name AS name, h.pct AS pct
"""

# The first hop up also says whether the firm exists and names it: one round trip fewer.
HOLDERS_OF_ROOT = f"""
MATCH (e:{_E} {{id: $id}})
OPTIONAL MATCH (e)<-[h:{_HOLDS}]-(x)
WHERE x:{_E} OR x:{_P}
RETURN e.id AS held, e.name AS held_name, x.id AS holder, x:{_P} AS is_person, x.name AS name,
       h.pct AS pct
"""

# One hop down: what the frontier holds, with every holder of each held enterprise, so that
# the caller can decide which holder controls it, and whether it holds anything itself (a
# firm that holds nothing is not walked from: the walk ends without a last empty hop).
_HOLDINGS_HOP = """
UNWIND $frontier AS fid
MATCH (h:{label} {{id: fid}})-[:{holds}]->(e:{e})
WHERE NOT e.id IN $visited
WITH DISTINCT e
CALL (e) {{
  MATCH (e)<-[x:{holds}]-(o)
  WHERE o:{e} OR o:{p}
  RETURN collect({{id: o.id, is_person: o:{p}, pct: x.pct}}) AS holders
}}
RETURN e.id AS id, e.name AS name, holders, EXISTS {{ (e)-[:{holds}]->(:{e}) }} AS holds
"""
HOLDINGS_HOP_FROM_ENTERPRISE = _HOLDINGS_HOP.format(label=_E, holds=_HOLDS, e=_E, p=_P)
HOLDINGS_HOP_FROM_PERSON = _HOLDINGS_HOP.format(label=_P, holds=_HOLDS, e=_E, p=_P)

# ---- related parties -----------------------------------------------------------------------
SHARED_PEOPLE = f"""
MATCH (x:{_E} {{id: $id}})<-[r1:{Rel.ROLE.value}]-(p:{_P})-[r2:{Rel.ROLE.value}]->(y:{_E})
WHERE y <> x AND r1.kind IN $kinds AND r2.kind IN $kinds
RETURN y.id AS id, y.name AS name, p.id AS via_id, p.name AS via_name,
       r1.kind AS kind_here, r2.kind AS kind_there
ORDER BY y.id
LIMIT $limit
"""

SHARED_CONTACTS = f"""
MATCH (x:{_E} {{id: $id}})-[:{Rel.LOCATED_AT.value}|{Rel.HAS_PHONE.value}]->(c)
      <-[:{Rel.LOCATED_AT.value}|{Rel.HAS_PHONE.value}]-(y:{_E})
WHERE y <> x
RETURN y.id AS id, y.name AS name, c.id AS via_id,
       coalesce(c.text, c.number, c.id) AS via_name, c:{Label.ADDRESS.value} AS is_address
ORDER BY y.id
LIMIT $limit
"""

# ---- guarantees ----------------------------------------------------------------------------
ALL_ENTERPRISE_GUARANTEES = f"""
MATCH (g:{_E})-[r:{_GUARANTEES}]->(b:{_E})
WHERE g <> b
RETURN collect([g.id, b.id, r.id, coalesce(r.amount, 0)]) AS rows
"""

_GUARANTEE_HOP = """
UNWIND $frontier AS fid
MATCH (:{e} {{id: fid}}){near}[:{rel}]{far}(x:{e})
WHERE NOT x.id IN $visited
RETURN DISTINCT x.id AS id
"""
GUARANTEE_HOP_OUT = _GUARANTEE_HOP.format(e=_E, rel=_GUARANTEES, near="-", far="->")
GUARANTEE_HOP_IN = _GUARANTEE_HOP.format(e=_E, rel=_GUARANTEES, near="<-", far="-")

GUARANTEES_AMONG = f"""
UNWIND $ids AS gid
MATCH (g:{_E} {{id: gid}})-[r:{_GUARANTEES}]->(b:{_E})
WHERE b.id IN $ids AND g <> b
RETURN g.id AS guarantor, b.id AS beneficiary, r.id AS id, coalesce(r.amount, 0) AS amount
"""

MAX_GUARANTEE_CHAIN = 5


def guarantee_chains(depth: int, incoming: bool) -> str:
    """Guarantee paths ending at (incoming) or starting from the enterprise, without revisits."""
    if not 1 <= depth <= MAX_GUARANTEE_CHAIN:
        raise ValueError(f"depth must be in 1..{MAX_GUARANTEE_CHAIN}")
    pattern = (
        f"(g)-[:{_GUARANTEES}*1..{int(depth)}]->(x)"
        if incoming
        else f"(x)-[:{_GUARANTEES}*1..{int(depth)}]->(g)"
    )
    return f"""
MATCH (x:{_E} {{id: $id}})
MATCH p = {pattern}
WHERE all(i IN range(0, size(nodes(p)) - 2) WHERE NOT nodes(p)[i] IN nodes(p)[i + 1..])
RETURN [n IN nodes(p) | n.id] AS ids, [n IN nodes(p) | n.name] AS names,
       [r IN relationships(p) | {{id: r.id, amount: coalesce(r.amount, 0)}}] AS links
ORDER BY length(p), ids
LIMIT $limit
"""


# ---- trade authenticity --------------------------------------------------------------------
# Full-graph projections come back as one row of parallel lists: hundreds of thousands of
# one-pair records cost far more to decode than the query takes.
ALL_SUPPLIES_PAIRS = f"""
MATCH (s:{_E})-[:{_SUPPLIES}]->(b:{_E})
WHERE s <> b
RETURN collect(s.id) AS sellers, collect(b.id) AS buyers
"""

# Invoices between firms of one candidate component (sellers in $ids, buyers in $ids).
INVOICES_AMONG = f"""
UNWIND $ids AS sid
MATCH (s:{_E} {{id: sid}})<-[:{Rel.SELLER.value}]-(i:{Label.INVOICE.value})
      -[:{Rel.BUYER.value}]->(b:{_E})
WHERE b.id IN $ids AND b <> s AND coalesce(i.status, 'issued') <> 'void'
  AND i.issued_on IS NOT NULL
RETURN collect([i.id, s.id, b.id, coalesce(i.amount, 0), toString(i.issued_on)]) AS rows
"""

INVOICE_SHIPMENT_COUNTS = f"""
UNWIND $ids AS iid
MATCH (i:{Label.INVOICE.value} {{id: iid}})
RETURN iid AS id, COUNT {{ (:{Label.SHIPMENT.value})-[:{Rel.DELIVERS.value}]->(i) }} AS shipments
"""

FOUR_FLOW_INVOICE = f"""
UNWIND $ids AS iid
MATCH (i:{Label.INVOICE.value} {{id: iid}})
OPTIONAL MATCH (i)-[:{Rel.SELLER.value}]->(s:{_E})
OPTIONAL MATCH (i)-[:{Rel.BUYER.value}]->(b:{_E})
OPTIONAL MATCH (i)-[:{Rel.UNDER.value}]->(c:{Label.CONTRACT.value})
OPTIONAL MATCH (i)-[f:{Rel.FOR.value}]->(:{Label.GOODS.value})
CALL (i) {{
  OPTIONAL MATCH (sh:{Label.SHIPMENT.value})-[:{Rel.DELIVERS.value}]->(i)
  RETURN collect(sh {{.id, .quantity, .shipped_on, .received_on}}) AS shipments
}}
CALL (i) {{
  OPTIONAL MATCH (p:{Label.PAYMENT.value})-[:{Rel.SETTLES.value}]->(i)
  RETURN collect(p {{.id, .amount, .paid_on,
                     payer: head([(p)-[:{Rel.PAID_BY.value}]->(x:{_E}) | x.id])}}) AS payments
}}
RETURN i.id AS id, i.amount AS amount, i.tax AS tax, i.issued_on AS issued_on,
       i.due_on AS due_on, i.status AS status, coalesce(f.qty, i.quantity) AS qty,
       s.id AS seller, b.id AS buyer,
       c {{.id, .amount, .signed_on, .due_on, .status}} AS contract,
       shipments, payments
"""

CONTRACT_INVOICES = f"""
MATCH (c:{Label.CONTRACT.value} {{id: $id}})
OPTIONAL MATCH (i:{Label.INVOICE.value})-[:{Rel.UNDER.value}]->(c)
RETURN c {{.id, .amount, .signed_on, .due_on, .status}} AS contract,
       [x IN collect(i.id) WHERE x IS NOT NULL] AS invoices,
       COUNT {{ (:{Label.SHIPMENT.value})-[:{Rel.UNDER.value}]->(c) }} AS shipments
"""

ENTERPRISE_INVOICES = f"""
MATCH (e:{_E} {{id: $id}})<-[:{Rel.SELLER.value}|{Rel.BUYER.value}]-(i:{Label.INVOICE.value})
RETURN DISTINCT i.id AS id
ORDER BY id
SKIP $skip LIMIT $limit
"""

DUPLICATE_PLEDGES = f"""
MATCH (c)-[:{Rel.PLEDGED_TO.value}|{Rel.ASSIGNED_TO.value}]->(f:{Label.FINANCING.value})
WITH c, collect(DISTINCT f) AS fs
WHERE size(fs) > 1
RETURN c.id AS id, CASE WHEN c:{Label.INVOICE.value} THEN 'invoice' ELSE 'asset' END AS kind,
       [f IN fs | f {{.id, .status, .amount_minor, .outstanding_minor, .product_kind,
                   .lender, .origin}}] AS financings
ORDER BY id
"""

# ---- exposure ------------------------------------------------------------------------------
EXPOSURE_OF = f"""
UNWIND $ids AS eid
MATCH (e:{_E} {{id: eid}})
CALL (e) {{
  OPTIONAL MATCH (f:{Label.FINANCING.value})-[:{Rel.BORROWER.value}]->(e)
  WHERE f.status IN $outstanding AND ($funder IS NULL OR coalesce(f.funder_id, $default) = $funder)
  RETURN count(f) AS financings, coalesce(sum(f.outstanding_minor), 0) AS financed
}}
CALL (e) {{
  OPTIONAL MATCH (e)-[g:{_GUARANTEES}]->(b)
  WHERE NOT b.id IN $ids
  RETURN coalesce(sum(g.amount), 0) AS guarantees_given
}}
CALL (e) {{
  OPTIONAL MATCH (g)-[r:{_GUARANTEES}]->(e)
  WHERE NOT g.id IN $ids
  RETURN coalesce(sum(r.amount), 0) AS guarantees_received
}}
CALL (e) {{
  OPTIONAL MATCH (v:{Label.VOUCHER.value})-[:{Rel.ISSUED_BY.value}]->(e)
  WHERE v.status IN $open_vouchers
    AND ($funder IS NULL OR coalesce(v.line_funder_id, $default) = $funder)
  RETURN coalesce(sum(v.face_minor), 0) AS vouchers_issued
}}
CALL (e) {{
  OPTIONAL MATCH (v:{Label.VOUCHER.value})-[:{Rel.HELD_BY.value}]->(e)
  WHERE v.status IN $open_vouchers
    AND ($funder IS NULL OR coalesce(v.line_funder_id, $default) = $funder)
  RETURN coalesce(sum(v.face_minor), 0) AS vouchers_held
}}
RETURN eid AS id, e.name AS name, financings, financed, guarantees_given,
       guarantees_received, vouchers_issued, vouchers_held
"""

# ---- prospects -----------------------------------------------------------------------------
PROSPECT_FACTS = f"""
UNWIND $ids AS eid
MATCH (e:{_E} {{id: eid}})
RETURN eid AS id, e.fraud_score AS fraud_score, e.default_score AS default_score,
       e.status IN $inactive AS inactive,
       COUNT {{ (f:{Label.FINANCING.value})-[:{Rel.BORROWER.value}]->(e)
               WHERE f.status IN $live }} AS live_financings
"""
