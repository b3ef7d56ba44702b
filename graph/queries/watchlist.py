"""A user's watch list: `(:User)-[:WATCHES {since}]->(:Enterprise)`, the firms a relationship
manager (or anyone) follows, with their open alerts (issue #23): those of the user's
funder's book and the shared chain's (`graph.funders.ALERT_IN_BOOK`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from neo4j import Driver, RoutingControl

from graph.funders import ALERT_IN_BOOK
from graph.model import DEFAULT_FUNDER, AlertStatus, Label, Rel

_U, _E, _AL = Label.USER.value, Label.ENTERPRISE.value, Label.ALERT.value
_W, _ABOUT = Rel.WATCHES.value, Rel.ABOUT.value

WATCH = f"""
MATCH (u:{_U} {{username: $username}})
MATCH (e:{_E} {{id: $enterprise_id}})
MERGE (u)-[w:{_W}]->(e)
ON CREATE SET w.since = $at
RETURN e.id AS id
"""
UNWATCH = f"""
OPTIONAL MATCH (:{_U} {{username: $username}})-[w:{_W}]->(:{_E} {{id: $enterprise_id}})
DELETE w
RETURN count(w) AS removed
"""
WATCH_LIST = f"""
MATCH (:{_U} {{username: $username}})-[w:{_W}]->(e:{_E})
RETURN e.id AS id, e.name AS name, w.since AS since, e.fraud_score AS fraud_score,
       e.default_score AS default_score,
       COUNT {{ (al:{_AL})-[:{_ABOUT}]->(e) WHERE al.status = $open AND {ALERT_IN_BOOK} }}
         AS open_alerts,
       COLLECT {{
         MATCH (al:{_AL})-[:{_ABOUT}]->(e) WHERE al.status = $open AND {ALERT_IN_BOOK}
         RETURN al {{.id, .kind, .severity, .raised_at}} ORDER BY al.raised_at DESC LIMIT 3
       }} AS latest_alerts
ORDER BY open_alerts DESC, id
"""


def watch(driver: Driver, database: str, username: str, enterprise_id: str, at: datetime) -> bool:
    """Add a firm to the user's list (kept as it was when already there); False when no
    such enterprise."""
    records, _, _ = driver.execute_query(WATCH, username=username, enterprise_id=enterprise_id,
                                         at=at, database_=database)  # fmt: skip
    return bool(records)


def unwatch(driver: Driver, database: str, username: str, enterprise_id: str) -> bool:
    records, _, _ = driver.execute_query(
        UNWATCH, username=username, enterprise_id=enterprise_id, database_=database
    )
    return bool(records and records[0]["removed"])


def watch_list(
    driver: Driver, database: str, username: str, funder: str | None = None
) -> list[dict[str, Any]]:
    """The user's firms, those with most open alerts first, each with its latest three;
    with ``funder``, the alerts of its book and the shared chain's."""
    records, _, _ = driver.execute_query(
        WATCH_LIST, username=username, open=AlertStatus.OPEN.value, funder=funder,
        default_funder=DEFAULT_FUNDER, database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]
