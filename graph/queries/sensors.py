"""Cypher for IoT-tracked collateral: the device registry, release orders, alerts, derived
asset state and valuations.

Writes are `UNWIND $rows` batches in managed transactions and MERGE on keys, so replaying a
batch (after a crash, or the intake re-deriving state on restart) changes nothing. An alert's
`id` is its incident key; it links by `ABOUT` to the asset, the asset's owner, the live
financings the asset secures and the sensor that saw it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.funders import ALERT_IN_BOOK
from graph.model import DEFAULT_FUNDER, FINANCING_LIVE, Label, Rel, values

_A = Label.ASSET.value
_S = Label.SENSOR.value
_W = Label.WAREHOUSE.value
_E = Label.ENTERPRISE.value
_F = Label.FINANCING.value
_G = Label.GOODS.value
_AL = Label.ALERT.value
_RO = Label.RELEASE_ORDER.value
_LIVE = values(FINANCING_LIVE)

UPSERT_COLLATERAL = f"""
UNWIND $rows AS row
MERGE (a:{_A} {{id: row.id}})
SET a.kind = row.kind, a.quantity = row.quantity, a.unit = row.unit,
    a.unit_value = row.unit_value, a.currency = row.currency,
    a.status = coalesce(row.status, a.status, 'active'),
    a.geofence_lat = row.geofence_lat, a.geofence_lon = row.geofence_lon,
    a.geofence_radius_m = row.geofence_radius_m,
    a.temp_min = row.temp_min, a.temp_max = row.temp_max, a.humidity_max = row.humidity_max
WITH a, row
CALL (a, row) {{
  WITH a, row WHERE row.owner_id IS NOT NULL
  MERGE (e:{_E} {{id: row.owner_id}})
  ON CREATE SET e.name = coalesce(row.owner_name, row.owner_id)
  MERGE (e)-[:{Rel.OWNS.value}]->(a)
}}
CALL (a, row) {{
  WITH a, row WHERE row.warehouse_id IS NOT NULL
  MERGE (w:{_W} {{id: row.warehouse_id}})
  ON CREATE SET w.name = coalesce(row.warehouse_name, row.warehouse_id),
                w.geo = CASE WHEN row.warehouse_lat IS NULL OR row.warehouse_lon IS NULL
                        THEN null
                        ELSE point({{latitude: row.warehouse_lat, longitude: row.warehouse_lon}})
                        END
  MERGE (a)-[:{Rel.STORED_AT.value}]->(w)
}}
CALL (a, row) {{
  WITH a, row WHERE row.goods_id IS NOT NULL
  MERGE (g:{_G} {{id: row.goods_id}})
  ON CREATE SET g.name = row.goods_id, g.unit = row.unit
  MERGE (a)-[:{Rel.OF.value}]->(g)
}}
CALL (a, row) {{
  UNWIND coalesce(row.financing_ids, []) AS fid
  MATCH (f:{_F} {{id: fid}})
  MERGE (a)-[:{Rel.PLEDGED_TO.value}]->(f)
}}
"""

UPSERT_SENSORS = f"""
UNWIND $rows AS row
MERGE (s:{_S} {{id: row.id}})
SET s.kind = row.kind, s.interval_s = row.interval_s
WITH s, row
CALL (s, row) {{
  WITH s, row WHERE row.asset_id IS NOT NULL
  MATCH (a:{_A} {{id: row.asset_id}})
  MERGE (s)-[:{Rel.MONITORS.value}]->(a)
}}
CALL (s, row) {{
  WITH s, row WHERE row.warehouse_id IS NOT NULL
  MATCH (w:{_W} {{id: row.warehouse_id}})
  MERGE (s)-[:{Rel.INSTALLED_AT.value}]->(w)
}}
"""

UPSERT_RELEASE_ORDERS = f"""
UNWIND $rows AS row
MATCH (a:{_A} {{id: row.asset_id}})
MERGE (r:{_RO} {{id: row.id}})
SET r.quantity = row.quantity, r.valid_from = row.valid_from, r.valid_to = row.valid_to
MERGE (r)-[:{Rel.RELEASES.value}]->(a)
"""

REGISTRY_SENSORS = f"""
MATCH (s:{_S})
OPTIONAL MATCH (s)-[:{Rel.MONITORS.value}]->(a:{_A})
OPTIONAL MATCH (s)-[:{Rel.INSTALLED_AT.value}]->(w:{_W})
RETURN s.id AS id, s.kind AS kind, s.interval_s AS interval_s,
       head(collect(DISTINCT a.id)) AS asset_id, head(collect(DISTINCT w.id)) AS warehouse_id
"""

REGISTRY_ASSETS = f"""
MATCH (a:{_A})
WHERE EXISTS {{ (:{_S})-[:{Rel.MONITORS.value}]->(a) }}
OPTIONAL MATCH (e:{_E})-[:{Rel.OWNS.value}]->(a)
OPTIONAL MATCH (a)-[:{Rel.OF.value}]->(g:{_G})
OPTIONAL MATCH (a)-[:{Rel.STORED_AT.value}]->(w:{_W})
OPTIONAL MATCH (a)-[:{Rel.PLEDGED_TO.value}]->(f:{_F})
WHERE f.status IN $live
WITH a, head(collect(DISTINCT e.id)) AS owner_id, head(collect(DISTINCT g.id)) AS goods_id,
     head(collect(DISTINCT w)) AS w, collect(DISTINCT f.id) AS financing_ids
RETURN a.id AS id, a.kind AS kind, a.quantity AS quantity, a.unit AS unit,
       a.unit_value AS unit_value, a.currency AS currency,
       owner_id, goods_id, w.id AS warehouse_id,
       coalesce(a.geofence_lat, w.geo.latitude) AS geofence_lat,
       coalesce(a.geofence_lon, w.geo.longitude) AS geofence_lon,
       a.geofence_radius_m AS geofence_radius_m,
       a.temp_min AS temp_min, a.temp_max AS temp_max, a.humidity_max AS humidity_max,
       financing_ids
"""

REGISTRY_RELEASES = f"""
MATCH (r:{_RO})-[:{Rel.RELEASES.value}]->(a:{_A})
RETURN r.id AS id, a.id AS asset_id, r.quantity AS quantity,
       r.valid_from AS valid_from, r.valid_to AS valid_to
"""

UPSERT_ALERTS = f"""
UNWIND $rows AS row
MERGE (al:{_AL} {{id: row.id}})
ON CREATE SET al.kind = row.kind, al.scope = row.scope, al.severity = row.severity,
              al.status = 'open', al.message = row.message, al.evidence = row.evidence,
              al.first_evidence_at = row.first_evidence_at, al.raised_at = row.raised_at,
              al.asset_id = row.asset_id, al.sensor_id = row.sensor_id,
              al.created_at = datetime()
WITH al, row
CALL (al, row) {{
  MATCH (a:{_A} {{id: row.asset_id}})
  MERGE (al)-[:{Rel.ABOUT.value}]->(a)
  WITH al, a
  CALL (al, a) {{
    MATCH (e:{_E})-[:{Rel.OWNS.value}]->(a)
    MERGE (al)-[:{Rel.ABOUT.value}]->(e)
  }}
  CALL (al, a) {{
    MATCH (a)-[:{Rel.PLEDGED_TO.value}]->(f:{_F})
    WHERE f.status IN $live
    MERGE (al)-[:{Rel.ABOUT.value}]->(f)
  }}
}}
CALL (al, row) {{
  MATCH (s:{_S} {{id: row.sensor_id}})
  MERGE (al)-[:{Rel.ABOUT.value}]->(s)
}}
"""

CLEAR_ALERTS = f"""
UNWIND $rows AS row
MATCH (al:{_AL} {{id: row.id}})
SET al.cleared_at = coalesce(al.cleared_at, row.cleared_at)
"""

OPEN_ALERT_SCOPES = f"""
MATCH (al:{_AL})
WHERE al.cleared_at IS NULL AND al.scope IS NOT NULL
RETURN al.scope AS scope, al.id AS id
"""

ACKNOWLEDGE_ALERT = f"""
MATCH (al:{_AL} {{id: $id}})
SET al.acknowledged_by = CASE WHEN al.status = 'open' THEN $user ELSE al.acknowledged_by END,
    al.acknowledged_at = CASE WHEN al.status = 'open' THEN $at ELSE al.acknowledged_at END,
    al.acknowledged_note = CASE WHEN al.status = 'open' THEN $note ELSE al.acknowledged_note END,
    al.status = 'acknowledged'
RETURN al {{.*}} AS alert
"""

LIST_ALERTS = f"""
MATCH (al:{_AL})
WHERE ($status IS NULL OR al.status = $status)
  AND ($kind IS NULL OR al.kind = $kind)
  AND ($severity IS NULL OR al.severity = $severity)
  AND ($asset_id IS NULL OR al.asset_id = $asset_id)
  AND ($since IS NULL OR al.raised_at >= $since)
  AND ($enterprise_id IS NULL OR
       EXISTS {{ (al)-[:{Rel.ABOUT.value}]->(:{_E} {{id: $enterprise_id}}) }})
  AND ($financing_id IS NULL OR
       EXISTS {{ (al)-[:{Rel.ABOUT.value}]->(:{_F} {{id: $financing_id}}) }})
  AND {ALERT_IN_BOOK}
// Finance's margin calls carry created_at only; the keyset cursor is (at, id) after $after_at.
WITH al, coalesce(al.raised_at, al.created_at) AS at
WHERE $after_at IS NULL OR at < $after_at OR (at = $after_at AND al.id > $after_id)
WITH al, at ORDER BY at DESC, al.id LIMIT $limit
OPTIONAL MATCH (al)-[:{Rel.ABOUT.value}]->(x)
WHERE x:{_E} OR x:{_F}
WITH al, at, collect(x) AS linked
RETURN al {{.*}} AS alert, at,
       [n IN linked WHERE n:{_E} | n.id] AS enterprise_ids,
       [n IN linked WHERE n:{_F} | n.id] AS financing_ids
ORDER BY at DESC, al.id
"""

ALERTS_CREATED_SINCE = f"""
MATCH (al:{_AL})
WHERE al.created_at > $since OR (al.created_at = $since AND al.id > $after_id)
WITH al ORDER BY al.created_at, al.id LIMIT $limit
RETURN al {{.*}} AS alert,
       [(al)-[:{Rel.ABOUT.value}]->(e:{_E}) | e.id] AS enterprise_ids,
       [(al)-[:{Rel.ABOUT.value}]->(f:{_F}) | f.id] AS financing_ids
ORDER BY al.created_at, al.id
"""

WRITE_STATES = f"""
UNWIND $rows AS row
MATCH (a:{_A} {{id: row.asset_id}})
WHERE a.state_at IS NULL OR a.state_at <= row.as_of
SET a.state_at = row.as_of, a.measured_quantity = row.measured_quantity,
    a.head_count = row.head_count, a.camera_count = row.camera_count,
    a.weight_kg = row.weight_kg, a.lat = row.lat, a.lon = row.lon,
    a.distance_m = row.distance_m, a.inside_geofence = row.inside_geofence,
    a.temperature = row.temperature, a.humidity = row.humidity,
    a.silent_sensors = row.silent_sensors
"""

WRITE_VALUATIONS = f"""
UNWIND $rows AS row
MATCH (a:{_A} {{id: row.asset_id}})
WHERE a.valued_at IS NULL OR a.valued_at <= row.as_of
SET a.value_minor = row.value_minor, a.value_currency = row.currency,
    a.valued_quantity = row.quantity, a.valued_at = row.as_of
"""

TOUCH_SENSORS = f"""
UNWIND $rows AS row
MATCH (s:{_S} {{id: row.id}})
WHERE s.last_seen IS NULL OR s.last_seen < row.last_seen
SET s.last_seen = row.last_seen
"""

ASSET = f"""
MATCH (a:{_A} {{id: $id}})
OPTIONAL MATCH (s:{_S})-[:{Rel.MONITORS.value}]->(a)
RETURN a {{.*}} AS asset, collect(s {{.*}}) AS sensors
"""


# -- collateral operations through the API (sensors/operations.py): read and check first --------

REFERENCES_EXIST = f"""
RETURN EXISTS {{ MATCH (:{_E} {{id: $owner_id}}) }} AS owner,
       EXISTS {{ MATCH (:{_W} {{id: $warehouse_id}}) }} AS warehouse,
       EXISTS {{ MATCH (:{_G} {{id: $goods_id}}) }} AS goods
"""

COLLATERAL_TERMS = f"""
MATCH (a:{_A} {{id: $id}})
CALL (a) {{
  OPTIONAL MATCH (e:{_E})-[:{Rel.OWNS.value}]->(a)
  RETURN collect(DISTINCT e.id) AS owner_ids
}}
CALL (a) {{
  OPTIONAL MATCH (a)-[:{Rel.OF.value}]->(g:{_G})
  RETURN collect(DISTINCT g.id) AS goods_ids
}}
CALL (a) {{
  OPTIONAL MATCH (a)-[:{Rel.STORED_AT.value}]->(w:{_W})
  RETURN collect(DISTINCT w.id) AS warehouse_ids
}}
CALL (a) {{
  OPTIONAL MATCH (a)-[:{Rel.PLEDGED_TO.value}]->(f:{_F})
  WHERE f.status IN $live
  RETURN collect(DISTINCT f.id) AS financing_ids
}}
CALL (a) {{
  OPTIONAL MATCH (s:{_S})-[:{Rel.MONITORS.value}]->(a)
  RETURN collect(DISTINCT s.id) AS sensor_ids
}}
RETURN a {{.id, .kind, .quantity, .unit, .unit_value, .currency, .status, .measured_quantity,
          .value_minor, .value_currency, .geofence_lat, .geofence_lon, .geofence_radius_m,
          .temp_min, .temp_max, .humidity_max}} AS asset,
       owner_ids, goods_ids, warehouse_ids, financing_ids, sensor_ids
"""

SENSOR_TERMS = f"""
MATCH (s:{_S} {{id: $id}})
OPTIONAL MATCH (s)-[:{Rel.MONITORS.value}]->(a:{_A})
OPTIONAL MATCH (s)-[:{Rel.INSTALLED_AT.value}]->(w:{_W})
RETURN s.id AS id, s.kind AS kind, s.interval_s AS interval_s,
       collect(DISTINCT a.id) AS asset_ids, collect(DISTINCT w.id) AS warehouse_ids
"""

# Takes the asset's write lock (as an approval's collateral lock does), so a pledge cannot
# slip in between this check and the release order written in the same transaction.
RELEASE_GUARD = f"""
MATCH (a:{_A} {{id: $asset_id}})
SET a._v = coalesce(a._v, 0) + 1
WITH a
OPTIONAL MATCH (a)-[:{Rel.PLEDGED_TO.value}]->(f:{_F})
WHERE f.status IN $live
WITH a, collect(DISTINCT f.id) AS live
OPTIONAL MATCH (r:{_RO} {{id: $id}})
OPTIONAL MATCH (r)-[:{Rel.RELEASES.value}]->(ra:{_A})
RETURN a.quantity AS asset_quantity, a.unit AS unit, live,
       r {{.id, .quantity, .valid_from, .valid_to}} AS existing, ra.id AS existing_asset_id
"""

RELEASE_ORDER = f"""
MATCH (r:{_RO} {{id: $id}})-[:{Rel.RELEASES.value}]->(a:{_A})
RETURN r.id AS id, a.id AS asset_id, r.quantity AS quantity,
       r.valid_from AS valid_from, r.valid_to AS valid_to
"""

SET_LIMITS = f"""
MATCH (a:{_A} {{id: $id}})
SET a.geofence_lat = $geofence_lat, a.geofence_lon = $geofence_lon,
    a.geofence_radius_m = $geofence_radius_m,
    a.temp_min = $temp_min, a.temp_max = $temp_max, a.humidity_max = $humidity_max
RETURN a.id AS id
"""

SET_UNIT_VALUE = f"""
MATCH (a:{_A} {{id: $id}})
SET a.unit_value = $unit_value, a.currency = $currency
RETURN a.id AS id
"""


def _write(driver: Driver, database: str, query: str, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return

    def work(tx: ManagedTransaction) -> None:
        tx.run(query, rows=list(rows), live=_LIVE).consume()

    with driver.session(database=database) as session:
        session.execute_write(work)


def _read(driver: Driver, database: str, query: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(
        query, params, database_=database, routing_=RoutingControl.READ
    )
    return [dict(r) for r in records]


def upsert_collateral(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    """Assets with their owner, warehouse, goods, financings and monitoring limits."""
    _write(driver, database, UPSERT_COLLATERAL, rows)


def upsert_sensors(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, UPSERT_SENSORS, rows)


def upsert_release_orders(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, UPSERT_RELEASE_ORDERS, rows)


def registry(driver: Driver, database: str) -> dict[str, list[dict[str, Any]]]:
    """Sensors, monitored assets and release orders, as plain rows."""
    return {
        "sensors": _read(driver, database, REGISTRY_SENSORS),
        "assets": _read(driver, database, REGISTRY_ASSETS, live=_LIVE),
        "releases": _read(driver, database, REGISTRY_RELEASES),
    }


def upsert_alerts(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, UPSERT_ALERTS, rows)


def clear_alerts(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, CLEAR_ALERTS, rows)


def open_alert_scopes(driver: Driver, database: str) -> dict[str, str]:
    return {r["scope"]: r["id"] for r in _read(driver, database, OPEN_ALERT_SCOPES)}


def acknowledge_alert(
    driver: Driver,
    database: str,
    alert_id: str,
    user: str,
    at: datetime,
    note: str | None = None,
) -> dict[str, Any] | None:
    def work(tx: ManagedTransaction) -> dict[str, Any] | None:
        record = tx.run(ACKNOWLEDGE_ALERT, id=alert_id, user=user, at=at, note=note).single()
        return dict(record["alert"]) if record else None

    with driver.session(database=database) as session:
        return session.execute_write(work)


def list_alerts(driver: Driver, database: str, **filters: Any) -> list[dict[str, Any]]:
    params = {
        k: filters.get(k)
        for k in (
            "status",
            "kind",
            "severity",
            "asset_id",
            "since",
            "enterprise_id",
            "financing_id",
            "after_at",
            "funder",
        )
    }
    params["default_funder"] = DEFAULT_FUNDER
    params["after_id"] = filters.get("after_id") or ""
    params["limit"] = int(filters.get("limit") or 100)
    return _read(driver, database, LIST_ALERTS, **params)


def alerts_created_since(
    driver: Driver, database: str, since: datetime, after_id: str = "", limit: int = 100
) -> list[dict[str, Any]]:
    """Alerts created after the cursor `(since, after_id)`, oldest first, each with the ids
    of the enterprises and financings it is about."""
    return _read(
        driver, database, ALERTS_CREATED_SINCE, since=since, after_id=after_id, limit=limit
    )


def write_states(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, WRITE_STATES, rows)


def write_valuations(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, WRITE_VALUATIONS, rows)


def touch_sensors(driver: Driver, database: str, rows: Sequence[dict[str, Any]]) -> None:
    _write(driver, database, TOUCH_SENSORS, rows)


def asset(driver: Driver, database: str, asset_id: str) -> dict[str, Any] | None:
    rows = _read(driver, database, ASSET, id=asset_id)
    return rows[0] if rows else None


def references_exist(
    driver: Driver, database: str, owner_id: str, warehouse_id: str | None, goods_id: str | None
) -> dict[str, bool]:
    """Whether the enterprise, warehouse and goods an asset would name exist."""
    return _read(
        driver, database, REFERENCES_EXIST,
        owner_id=owner_id, warehouse_id=warehouse_id, goods_id=goods_id,
    )[0]  # fmt: skip


def collateral_terms(driver: Driver, database: str, asset_id: str) -> dict[str, Any] | None:
    """An asset's registered terms with its owner, goods, warehouse, live financings and
    sensors (ids), or None."""
    rows = _read(driver, database, COLLATERAL_TERMS, id=asset_id, live=_LIVE)
    return rows[0] if rows else None


def sensor_terms(driver: Driver, database: str, sensor_id: str) -> dict[str, Any] | None:
    rows = _read(driver, database, SENSOR_TERMS, id=sensor_id)
    return rows[0] if rows else None


def release_guard(tx: ManagedTransaction, asset_id: str, order_id: str) -> dict[str, Any] | None:
    """Lock the asset; its live financings and the release order already under `order_id`."""
    record = tx.run(RELEASE_GUARD, asset_id=asset_id, id=order_id, live=_LIVE).single()
    return None if record is None else dict(record)


def write_release_orders_tx(tx: ManagedTransaction, rows: Sequence[dict[str, Any]]) -> None:
    tx.run(UPSERT_RELEASE_ORDERS, rows=list(rows), live=_LIVE).consume()


def release_order(driver: Driver, database: str, order_id: str) -> dict[str, Any] | None:
    rows = _read(driver, database, RELEASE_ORDER, id=order_id)
    return rows[0] if rows else None


def set_limits(driver: Driver, database: str, asset_id: str, **limits: Any) -> bool:
    """Replace an asset's geofence and storage limits; False when there is no such asset."""
    records, _, _ = driver.execute_query(SET_LIMITS, {"id": asset_id, **limits}, database_=database)
    return bool(records)


def set_unit_value(
    driver: Driver, database: str, asset_id: str, unit_value: int, currency: str
) -> bool:
    records, _, _ = driver.execute_query(
        SET_UNIT_VALUE, id=asset_id, unit_value=unit_value, currency=currency, database_=database
    )
    return bool(records)
