"""Reading enterprises: one enterprise with its direct neighbourhood, name search, counts."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from neo4j import Driver, RoutingControl

from graph.errors import InvalidArgument, NotFound
from graph.maintenance import count_by_label, count_by_relationship

MAX_PAGE = 200
MAX_NEIGHBOURS = 500

_ENTERPRISE_FIELDS = """
  id: e.id, name: e.name, name_en: e.name_en, uscc: e.uscc, uscc_valid: e.uscc_valid,
  legal_form: e.legal_form, region_code: e.region_code, industry_code: e.industry_code,
  registered_capital: e.registered_capital, currency: e.currency, founded_on: e.founded_on,
  status: e.status, is_core: coalesce(e.is_core, false), fraud_score: e.fraud_score,
  default_score: e.default_score
"""

_GET_ENTERPRISE = f"""
MATCH (e:Enterprise {{id: $id}})
RETURN e {{ {_ENTERPRISE_FIELDS} }} AS enterprise
"""

_GET_ENTERPRISES = f"""
UNWIND $ids AS id
MATCH (e:Enterprise {{id: id}})
RETURN e {{ {_ENTERPRISE_FIELDS} }} AS enterprise
"""

# The direct neighbourhood: every relationship touching the enterprise, with the node at the
# other end, capped so that a hub cannot return an unbounded list.
_NEIGHBOURHOOD = """
MATCH (e:Enterprise {id: $id})-[r]-(other)
WITH r, other, startNode(r) = e AS outgoing
ORDER BY coalesce(r.amount_12m, r.amount, r.pct, 0) DESC
LIMIT $limit
RETURN type(r) AS type, outgoing, labels(other)[0] AS label, other.id AS id,
       coalesce(other.name, other.text, other.number, other.id) AS name,
       properties(r) AS properties
"""

_SEARCH = """
CALL db.index.fulltext.queryNodes('enterprise_names', $query) YIELD node, score
RETURN node.id AS id, score
ORDER BY score DESC, id
SKIP $skip LIMIT $limit
"""
_SEARCH_BY_USCC = "MATCH (e:Enterprise {uscc: $uscc}) RETURN e.id AS id ORDER BY id LIMIT $limit"

_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/]|&&|\|\|)')
_USCC_LIKE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{18}$")


@dataclass(frozen=True, slots=True)
class Enterprise:
    id: str
    name: str
    name_en: str | None = None
    uscc: str | None = None
    uscc_valid: bool | None = None
    legal_form: str | None = None
    region_code: str | None = None
    industry_code: str | None = None
    registered_capital: int | None = None
    currency: str | None = None
    founded_on: date | None = None
    status: str | None = None
    is_core: bool = False
    fraud_score: float | None = None
    default_score: float | None = None


@dataclass(frozen=True, slots=True)
class Neighbour:
    relationship: str
    outgoing: bool
    label: str
    id: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchPage:
    ids: list[str]
    end_cursor: str | None
    has_next_page: bool


def _to_enterprise(row: dict[str, Any]) -> Enterprise:
    founded = row.get("founded_on")
    return Enterprise(**{**row, "founded_on": founded.to_native() if founded is not None else None})


def get_enterprise(driver: Driver, database: str, enterprise_id: str) -> Enterprise:
    records, _, _ = driver.execute_query(
        _GET_ENTERPRISE, id=enterprise_id, database_=database, routing_=RoutingControl.READ
    )
    if not records:
        raise NotFound(f"no enterprise with id {enterprise_id!r}")
    return _to_enterprise(records[0]["enterprise"])


def get_enterprises(driver: Driver, database: str, ids: list[str]) -> dict[str, Enterprise]:
    """Many enterprises in one round trip (the API's DataLoader batches through this)."""
    records, _, _ = driver.execute_query(
        _GET_ENTERPRISES, ids=ids, database_=database, routing_=RoutingControl.READ
    )
    found = (_to_enterprise(r["enterprise"]) for r in records)
    return {e.id: e for e in found}


def get_neighbourhood(
    driver: Driver, database: str, enterprise_id: str, limit: int = 100
) -> list[Neighbour]:
    if not 1 <= limit <= MAX_NEIGHBOURS:
        raise InvalidArgument(f"limit must be between 1 and {MAX_NEIGHBOURS}")
    records, _, _ = driver.execute_query(
        _NEIGHBOURHOOD,
        id=enterprise_id,
        limit=limit,
        database_=database,
        routing_=RoutingControl.READ,
    )
    return [
        Neighbour(
            relationship=r["type"],
            outgoing=r["outgoing"],
            label=r["label"],
            id=r["id"],
            name=str(r["name"]),
            properties=_plain(r["properties"]),
        )
        for r in records
    ]


def _plain(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j temporal values to ISO strings, so that properties serialise as JSON."""
    return {k: (v.iso_format() if hasattr(v, "iso_format") else v) for k, v in props.items()}


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def decode_cursor(cursor: str | None) -> int:
    if cursor is None:
        return 0
    try:
        kind, value = base64.urlsafe_b64decode(cursor.encode()).decode().split(":", 1)
        offset = int(value)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"malformed cursor {cursor!r}") from e
    if kind != "o" or offset < 0:
        raise InvalidArgument(f"malformed cursor {cursor!r}")
    return offset


def search_enterprises(
    driver: Driver, database: str, text: str, first: int = 20, after: str | None = None
) -> SearchPage:
    """Enterprises whose name, English name or USCC matches ``text``, best first."""
    text = text.strip()
    if not text:
        raise InvalidArgument("search text must not be empty")
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgument(f"first must be between 1 and {MAX_PAGE}")
    skip = decode_cursor(after)
    if _USCC_LIKE.match(text.upper()):
        records, _, _ = driver.execute_query(
            _SEARCH_BY_USCC,
            uscc=text.upper(),
            limit=first,
            database_=database,
            routing_=RoutingControl.READ,
        )
        if records:
            return SearchPage([r["id"] for r in records], None, False)
    terms = [_LUCENE_SPECIAL.sub(r"\\\1", t) for t in text.split()]
    query = " AND ".join(terms)
    records, _, _ = driver.execute_query(
        _SEARCH,
        query=query,
        skip=skip,
        limit=first + 1,
        database_=database,
        routing_=RoutingControl.READ,
    )
    ids = [r["id"] for r in records]
    has_next = len(ids) > first
    ids = ids[:first]
    return SearchPage(ids, encode_cursor(skip + len(ids)) if ids else None, has_next)


@dataclass(frozen=True, slots=True)
class GraphStats:
    nodes: dict[str, int]
    relationships: dict[str, int]


def graph_stats(driver: Driver, database: str) -> GraphStats:
    return GraphStats(count_by_label(driver, database), count_by_relationship(driver, database))
