"""Where derived results go: alerts, cleared incidents, asset state, valuations and sensor
freshness. `GraphSink` writes them to Neo4j in batches; `MemorySink` keeps them (benchmarks,
runs without a graph)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol

from neo4j import Driver

from chainlens.logs import get_logger
from graph.queries import sensors as q
from sensors.model import AlertEvent, AssetState, from_us
from sensors.valuation import Valuation

log = get_logger(__name__)


class Sink(Protocol):
    def write_alerts(self, alerts: Sequence[AlertEvent]) -> None: ...

    def clear_alerts(self, cleared: Sequence[tuple[str, datetime]]) -> None: ...

    def write_states(self, states: Sequence[AssetState]) -> None: ...

    def write_valuations(self, valuations: Sequence[Valuation]) -> None: ...

    def touch_sensors(self, last_seen_us: dict[str, int]) -> None: ...

    def open_alerts(self) -> dict[str, str]: ...


class MemorySink:
    def __init__(self) -> None:
        self.alerts: dict[str, AlertEvent] = {}
        self.cleared: dict[str, datetime] = {}
        self.states: dict[str, AssetState] = {}
        self.valuations: list[Valuation] = []
        self.last_seen: dict[str, int] = {}

    def write_alerts(self, alerts: Sequence[AlertEvent]) -> None:
        for a in alerts:
            self.alerts.setdefault(a.key, a)

    def clear_alerts(self, cleared: Sequence[tuple[str, datetime]]) -> None:
        for key, at in cleared:
            self.cleared.setdefault(key, at)

    def write_states(self, states: Sequence[AssetState]) -> None:
        for s in states:
            self.states[s.asset_id] = s

    def write_valuations(self, valuations: Sequence[Valuation]) -> None:
        self.valuations.extend(valuations)

    def touch_sensors(self, last_seen_us: dict[str, int]) -> None:
        for sid, ts in last_seen_us.items():
            self.last_seen[sid] = max(ts, self.last_seen.get(sid, ts))

    def open_alerts(self) -> dict[str, str]:
        return {a.scope: k for k, a in self.alerts.items() if k not in self.cleared}


OnAlerts = Callable[[Sequence[str]], object]
"""`on_alerts(asset_ids)`: called after a batch of alerts is written, with the assets they are
about (the API and the CLI bind the post-loan rules to it)."""


def bind_alert_hook(fn: Callable[..., Any], driver: Any, database: str) -> OnAlerts:
    """An `OnAlerts` from a domain function `fn(driver, database, asset_ids)`
    (`decisions.postloan.on_collateral_event`), bound by the entry point that owns the
    driver. A failing hook is logged, not raised: the alerts are stored already."""

    def hook(asset_ids: Sequence[str]) -> None:
        try:
            fn(driver, database, asset_ids)
        except Exception as e:
            log.error("sensors.alerts.hook_failed", hook=getattr(fn, "__qualname__", repr(fn)),
                      assets=len(asset_ids), error=str(e))  # fmt: skip

    return hook


class GraphSink:
    def __init__(
        self, driver: Driver, database: str, on_alerts: Sequence[OnAlerts] = ()
    ) -> None:
        self.driver = driver
        self.database = database
        self.on_alerts = tuple(on_alerts)

    def write_alerts(self, alerts: Sequence[AlertEvent]) -> None:
        q.upsert_alerts(
            self.driver,
            self.database,
            [
                {
                    "id": a.key,
                    "scope": a.scope,
                    "kind": a.kind.value,
                    "severity": a.severity.value,
                    "message": a.message,
                    "evidence": a.evidence_json(),
                    "first_evidence_at": a.first_evidence_at,
                    "raised_at": a.raised_at,
                    "asset_id": a.asset_id,
                    "sensor_id": a.sensor_id,
                }
                for a in alerts
            ],
        )
        assets = sorted({a.asset_id for a in alerts if a.asset_id})
        if assets:
            for hook in self.on_alerts:
                hook(assets)

    def clear_alerts(self, cleared: Sequence[tuple[str, datetime]]) -> None:
        q.clear_alerts(
            self.driver, self.database, [{"id": k, "cleared_at": at} for k, at in cleared]
        )

    def write_states(self, states: Sequence[AssetState]) -> None:
        q.write_states(
            self.driver,
            self.database,
            [
                {
                    "asset_id": s.asset_id,
                    "as_of": s.as_of,
                    "measured_quantity": (
                        str(s.measured_quantity) if s.measured_quantity is not None else None
                    ),
                    "head_count": s.head_count,
                    "camera_count": s.camera_count,
                    "weight_kg": s.weight_kg,
                    "lat": s.lat,
                    "lon": s.lon,
                    "distance_m": s.distance_m,
                    "inside_geofence": s.inside_geofence,
                    "temperature": s.temperature,
                    "humidity": s.humidity,
                    "silent_sensors": s.silent_sensors,
                }
                for s in states
                if s.as_of is not None
            ],
        )

    def write_valuations(self, valuations: Sequence[Valuation]) -> None:
        # Only the newest valuation of each asset matters to the graph.
        latest: dict[str, Valuation] = {}
        for v in valuations:
            latest[v.asset_id] = v
        q.write_valuations(
            self.driver,
            self.database,
            [
                {
                    "asset_id": v.asset_id,
                    "value_minor": v.value_minor,
                    "currency": v.currency,
                    "quantity": str(v.quantity),
                    "as_of": v.as_of,
                }
                for v in latest.values()
            ],
        )

    def touch_sensors(self, last_seen_us: dict[str, int]) -> None:
        q.touch_sensors(
            self.driver,
            self.database,
            [{"id": sid, "last_seen": from_us(ts)} for sid, ts in last_seen_us.items()],
        )

    def open_alerts(self) -> dict[str, str]:
        return q.open_alert_scopes(self.driver, self.database)
