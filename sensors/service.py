"""What the API exposes about IoT-tracked collateral, as plain domain functions.

GraphQL resolvers and REST routes call these and translate the dataclasses; nothing here
knows about HTTP. See docs/sensors.md for the suggested schema.

- `asset_state`        an asset's current collateral state (graph, written by the intake)
- `readings_history`   downsampled readings of an asset's sensors (DuckDB over the store)
- `list_alerts`        alerts filtered by status, kind, severity, asset, owner, financing, time
- `alerts_page`        the same, a page at a time behind an opaque keyset cursor
- `acknowledge_alert`  an operator takes an alert
- `watch_alerts`       async iterator of new alerts (a GraphQL subscription)
- `intake.accept_batch` the REST POST for HTTP batches
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from neo4j import Driver

from graph.queries import sensors as q
from sensors.errors import InvalidArgument, InvalidBatch, NotFound
from sensors.model import READING_SPECS, AlertRecord, AlertStatus, SensorKind, from_us
from sensors.store import query

MAX_POINTS = 5_000
MAX_PAGE = 200


@dataclass(frozen=True, slots=True)
class CollateralState:
    """An asset as the graph holds it: pledged terms plus the latest derived state."""

    asset_id: str
    kind: str | None
    status: str | None
    pledged_quantity: Decimal | None
    unit: str | None
    measured_quantity: Decimal | None
    head_count: int | None
    weight_kg: float | None
    lat: float | None
    lon: float | None
    inside_geofence: bool | None
    temperature: float | None
    humidity: float | None
    silent_sensors: list[str]
    state_at: datetime | None
    value_minor: int | None
    currency: str | None
    valued_at: datetime | None
    sensors: list[SensorFreshness]


@dataclass(frozen=True, slots=True)
class SensorFreshness:
    sensor_id: str
    kind: str | None
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    """One bucket of one sensor's readings; a position's `mean` is the latitude and
    `mean2` the longitude."""

    sensor_id: str
    kind: str
    bucket_start: datetime
    count: int
    mean: float
    min: float
    max: float
    last: float
    mean2: float | None


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _dt(value: Any) -> datetime | None:
    if value is None:
        return None
    native = value.to_native() if hasattr(value, "to_native") else value
    return native if isinstance(native, datetime) else None


def asset_state(driver: Driver, database: str, asset_id: str) -> CollateralState:
    row = q.asset(driver, database, asset_id)
    if row is None:
        raise NotFound(f"no asset {asset_id!r}")
    a = row["asset"]
    return CollateralState(
        asset_id=asset_id,
        kind=a.get("kind"),
        status=a.get("status"),
        pledged_quantity=_dec(a.get("quantity")),
        unit=a.get("unit"),
        measured_quantity=_dec(a.get("measured_quantity")),
        head_count=a.get("head_count"),
        weight_kg=a.get("weight_kg"),
        lat=a.get("lat"),
        lon=a.get("lon"),
        inside_geofence=a.get("inside_geofence"),
        temperature=a.get("temperature"),
        humidity=a.get("humidity"),
        silent_sensors=list(a.get("silent_sensors") or []),
        state_at=_dt(a.get("state_at")),
        value_minor=a.get("value_minor"),
        currency=a.get("value_currency"),
        valued_at=_dt(a.get("valued_at")),
        sensors=sorted(
            (
                SensorFreshness(s["id"], s.get("kind"), _dt(s.get("last_seen")))
                for s in row["sensors"]
            ),
            key=lambda s: s.sensor_id,
        ),
    )


def readings_history(
    data_dir: Path,
    sensor_ids: Sequence[str],
    start: datetime,
    end: datetime,
    bucket: timedelta,
) -> list[HistoryPoint]:
    """Readings of `sensor_ids` in [start, end), one point per sensor and bucket."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidBatch("start and end must be timezone-aware")
    seconds = int(bucket.total_seconds())
    if seconds <= 0:
        raise InvalidBatch("bucket must be positive")
    if len(sensor_ids) * (end - start).total_seconds() / seconds > MAX_POINTS:
        raise InvalidBatch(f"more than {MAX_POINTS} points: widen the bucket")
    if not sensor_ids:
        return []
    rows = query(
        data_dir,
        """
        SELECT sensor_id, kind, epoch_us(time_bucket(to_seconds(?), ts)) AS bucket,
               count(*), avg(value), min(value), max(value), arg_max(value, ts), avg(value2)
        FROM readings
        WHERE list_contains(?, sensor_id) AND ts >= ? AND ts < ?
        GROUP BY ALL ORDER BY sensor_id, bucket
        """,
        [seconds, list(sensor_ids), start.astimezone(UTC), end.astimezone(UTC)],
    )
    return [
        HistoryPoint(sid, kind, from_us(b), n, mean, lo, hi, last, mean2)
        for sid, kind, b, n, mean, lo, hi, last, mean2 in rows
    ]


def asset_history(
    driver: Driver,
    database: str,
    data_dir: Path,
    asset_id: str,
    start: datetime,
    end: datetime,
    bucket: timedelta,
    kind: str | None = None,
) -> list[HistoryPoint]:
    """`readings_history` of every sensor that monitors `asset_id` (only those that report
    reading `kind`, e.g. `weight`, when given)."""
    state = asset_state(driver, database, asset_id)
    sensor_ids = [s.sensor_id for s in state.sensors if kind is None or _reads(s.kind) == kind]
    return readings_history(data_dir, sensor_ids, start, end, bucket)


def _reads(sensor_kind: str | None) -> str | None:
    try:
        return READING_SPECS[SensorKind(sensor_kind or "")].kind.value
    except ValueError:
        return None


def _alert(
    row: dict[str, Any],
    enterprise_ids: Sequence[str] = (),
    financing_ids: Sequence[str] = (),
) -> AlertRecord:
    evidence = row.get("evidence")
    created = _dt(row.get("created_at"))
    return AlertRecord(
        id=row["id"],
        kind=row.get("kind") or "",
        severity=row.get("severity") or "",
        status=row.get("status") or AlertStatus.OPEN.value,
        asset_id=row.get("asset_id"),
        sensor_id=row.get("sensor_id"),
        message=row.get("message") or "",
        evidence=json.loads(evidence) if isinstance(evidence, str) else {},
        first_evidence_at=_dt(row.get("first_evidence_at")) or datetime.min.replace(tzinfo=UTC),
        raised_at=_dt(row.get("raised_at")) or created or datetime.min.replace(tzinfo=UTC),
        cleared_at=_dt(row.get("cleared_at")),
        acknowledged_by=row.get("acknowledged_by"),
        acknowledged_at=_dt(row.get("acknowledged_at")),
        acknowledged_note=row.get("acknowledged_note"),
        enterprise_ids=tuple(enterprise_ids),
        financing_ids=tuple(financing_ids),
    )


def list_alerts(
    driver: Driver,
    database: str,
    *,
    status: str | None = None,
    kind: str | None = None,
    severity: str | None = None,
    asset_id: str | None = None,
    enterprise_id: str | None = None,
    financing_id: str | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[AlertRecord]:
    """Newest first."""
    rows = q.list_alerts(
        driver,
        database,
        status=status,
        kind=kind,
        severity=severity,
        asset_id=asset_id,
        enterprise_id=enterprise_id,
        financing_id=financing_id,
        since=since,
        limit=max(1, min(limit, 1000)),
    )
    return [_alert(r["alert"], r["enterprise_ids"], r["financing_ids"]) for r in rows]


@dataclass(frozen=True, slots=True)
class AlertPage:
    alerts: list[AlertRecord]
    cursors: list[str]
    has_next_page: bool


def encode_cursor(alert: AlertRecord) -> str:
    raw = f"{alert.raised_at.isoformat()}|{alert.id}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, _, alert_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        when = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise InvalidArgument(f"not an alerts cursor: {cursor!r}") from e
    if when.tzinfo is None or not alert_id:
        raise InvalidArgument(f"not an alerts cursor: {cursor!r}")
    return when, alert_id


def alerts_page(
    driver: Driver,
    database: str,
    *,
    first: int = 50,
    after: str | None = None,
    **filters: Any,
) -> AlertPage:
    """One page of `list_alerts` (newest first) after the opaque cursor `after`; the cursor
    is a keyset (time, id), so pages stay stable while new alerts arrive."""
    if not 1 <= first <= MAX_PAGE:
        raise InvalidArgument(f"first must be between 1 and {MAX_PAGE}")
    after_at, after_id = decode_cursor(after) if after else (None, "")
    rows = q.list_alerts(
        driver, database, after_at=after_at, after_id=after_id, limit=first + 1, **filters
    )
    alerts = [_alert(r["alert"], r["enterprise_ids"], r["financing_ids"]) for r in rows]
    page = alerts[:first]
    return AlertPage(page, [encode_cursor(a) for a in page], len(alerts) > first)


def acknowledge_alert(
    driver: Driver,
    database: str,
    alert_id: str,
    user: str,
    at: datetime | None = None,
    note: str | None = None,
) -> AlertRecord:
    """Mark an alert acknowledged by `user` (with an optional note); acknowledging twice
    keeps the first."""
    row = q.acknowledge_alert(driver, database, alert_id, user, at or datetime.now(UTC), note)
    if row is None:
        raise NotFound(f"no alert {alert_id!r}")
    return _alert(row)


# An alert's `created_at` is its writing transaction's start (Cypher's `datetime()`), so a
# transaction that commits late makes alerts stamped before ones already seen. The watcher
# reads this far back on every poll and skips what it has yielded.
LATE_COMMIT_S = 10.0


async def watch_alerts(
    driver: Driver,
    database: str,
    since: datetime | None = None,
    poll_s: float = 1.0,
    late_s: float = LATE_COMMIT_S,
    page: int = 100,
) -> AsyncIterator[AlertRecord]:
    """Yield alerts as they are created from ``since`` (default now) on, each once (polls the
    graph: the intake may be another process). An alert whose transaction commits up to
    ``late_s`` after a later-stamped one was seen is still yielded; later than that, it is
    passed over (a client pages `alerts` to catch up)."""
    start = since or datetime.now(UTC)
    newest = start
    seen: dict[str, datetime] = {}
    while True:
        # Page through everything stamped from `late_s` before the newest alert seen.
        at, after_id = max(start, newest - timedelta(seconds=late_s)), ""
        while True:
            rows = await asyncio.to_thread(
                q.alerts_created_since, driver, database, at, after_id, page
            )
            for row in rows:
                alert = row["alert"]
                created = _dt(alert.get("created_at")) or at
                at, after_id = created, alert["id"]
                if alert["id"] in seen or created < start:
                    continue
                seen[alert["id"]] = created
                newest = max(newest, created)
                yield _alert(alert, row["enterprise_ids"], row["financing_ids"])
            if len(rows) < page:
                break
        horizon = newest - timedelta(seconds=late_s)
        for key in [k for k, t in seen.items() if t < horizon]:
            del seen[key]
        await asyncio.sleep(poll_s)
