"""Derived collateral state and anomaly detection, driven by event time.

The engine keeps, per asset, what the raw readings say now: ear tags sighted in the window
(head count), the latest weight on each scale (stock), the latest GPS fix against the
geofence, the latest temperature and humidity, and when each sensor last spoke. It evaluates
the rules at fixed ticks of event time (aligned to the tick length, so a replay after a
restart evaluates at the same instants and raises the same incident keys), and values the
collateral after each tick.

Rules (thresholds in `RuleConfig`):
- herd_count_drop: fewer distinct ear tags sighted in the window than pledged, beyond the
  tolerance; only once the herd has been watched for a whole window.
- stock_without_release: the stock on the scales fell below the reference level by more than
  the tolerance, and open release orders do not cover the drop; a covered drop consumes the
  orders and moves the reference down; stock coming in moves it up.
- geofence_exit, temperature_out_of_range, humidity_out_of_range: consecutive readings
  outside the limit (one spike is not an incident).
- sensor_silent: an infrastructure sensor (not an ear tag: their silence is what the head
  count measures) quiet for several reporting intervals.
- drift: a two-sided CUSUM on temperature and humidity against a baseline learned from each
  probe's first readings; catches a slow creep long before the hard limit.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sensors.model import (
    AlertEvent,
    AlertKind,
    AssetInfo,
    AssetState,
    Reading,
    ReadingKind,
    Registry,
    SensorInfo,
    SensorKind,
    Severity,
    from_us,
)
from sensors.valuation import OnValuation, PriceTable, Valuation, convert, value_of

_S = 1_000_000  # microseconds per second


@dataclass(frozen=True, slots=True)
class RuleConfig:
    """Rule thresholds; defaults suit readings every few minutes."""

    tick_s: int = 300
    herd_window_s: int = 3600
    herd_tolerance_abs: int = 2
    herd_tolerance_rel: float = 0.05
    stock_tolerance_rel: float = 0.02
    stock_confirm_ticks: int = 2
    confirm_readings: int = 2
    silence_factor: float = 3.0
    silence_min_s: int = 1800
    drift_warmup: int = 72
    drift_k_sigma: float = 1.0
    drift_h_sigma: float = 8.0
    drift_sigma_floor: float = 0.1
    valuation_materiality: float = 0.005  # report a value change beyond 0.5 %
    clear_ticks: int = 12  # an hour of quiet closes an incident; a relapse is a new one
    night_hours: tuple[int, int] = (20, 6)  # local night, for the evidence of stock moves
    utc_offset_h: int = 8


@dataclass(slots=True)
class _Cusum:
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    pos: float = 0.0
    neg: float = 0.0
    last_ts: int = -1

    def update(self, x: float, cfg: RuleConfig) -> None:
        if self.n < cfg.drift_warmup:
            self.n += 1
            d = x - self.mean
            self.mean += d / self.n
            self.m2 += d * (x - self.mean)
            return
        sigma = self.sigma(cfg)
        z = (x - self.mean) / sigma
        self.pos = max(0.0, self.pos + z - cfg.drift_k_sigma)
        self.neg = max(0.0, self.neg - z - cfg.drift_k_sigma)

    def sigma(self, cfg: RuleConfig) -> float:
        var = self.m2 / (self.n - 1) if self.n > 1 else 0.0
        return max(math.sqrt(var), cfg.drift_sigma_floor)


@dataclass(slots=True)
class _Probe:
    """Latest value of one sensor and the run of consecutive out-of-limit readings."""

    ts: int = -1
    value: float = 0.0
    value2: float | None = None
    outside: int = 0
    distance_m: float | None = None


@dataclass(slots=True)
class _AssetTrack:
    info: AssetInfo
    first_us: int | None = None
    tags: dict[str, int] = field(default_factory=dict)
    reference_kg: float | None = None
    low_ticks: int = 0
    last_value: int | None = None


@dataclass(slots=True)
class _Episode:
    key: str
    first_us: int
    quiet_ticks: int = 0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


_SEVERITY = {
    AlertKind.STOCK_WITHOUT_RELEASE: Severity.CRITICAL,
    AlertKind.GEOFENCE_EXIT: Severity.HIGH,
    AlertKind.TEMPERATURE_OUT_OF_RANGE: Severity.HIGH,
    AlertKind.HUMIDITY_OUT_OF_RANGE: Severity.MEDIUM,
    AlertKind.SENSOR_SILENT: Severity.MEDIUM,
    AlertKind.DRIFT: Severity.LOW,
}


class CollateralEngine:
    """Feed it validated readings (`apply`); it returns the alerts its ticks raise, keeps the
    state of every asset and calls the valuation hooks."""

    def __init__(
        self,
        registry: Registry,
        rules: RuleConfig | None = None,
        prices: PriceTable | None = None,
        on_valuation: Sequence[OnValuation] = (),
        *,
        only_fed_assets: bool = False,
    ) -> None:
        self.rules = rules or RuleConfig()
        # A second door (the API's HTTP intake) sees only the assets its clients report on:
        # rules and valuations there must leave the others to the MQTT intake's engine, or
        # every sensor it never hears from would be reported silent.
        self.only_fed_assets = only_fed_assets
        self.prices = prices or PriceTable()
        self.on_valuation = list(on_valuation)
        self._tick_us = self.rules.tick_s * _S
        self.next_tick_us: int | None = None
        self.last_seen: dict[str, int] = {}
        self.start_us: int | None = None
        self._probes: dict[str, _Probe] = {}
        self._cusum: dict[str, _Cusum] = {}
        self._episodes: dict[str, _Episode] = {}
        self._known_open: dict[str, str] = {}
        self.cleared: list[tuple[str, datetime]] = []
        self.valuations: list[Valuation] = []
        self._tracks: dict[str, _AssetTrack] = {}
        self._release_left: dict[str, Decimal] = {}
        self.set_registry(registry)

    def set_registry(self, registry: Registry) -> None:
        """Take a fresh registry snapshot (new devices, assets, release orders)."""
        self.registry = registry
        for asset in registry.assets.values():
            track = self._tracks.get(asset.id)
            if track is None:
                self._tracks[asset.id] = _AssetTrack(asset)
            else:
                track.info = asset
        self._sensor_asset = {
            s.id: s.asset_id for s in registry.sensors.values() if s.asset_id in registry.assets
        }
        self._tag_ids = {s.id for s in registry.sensors.values() if s.kind is SensorKind.RFID_TAG}
        # Per-asset lists, so that a tick touches only what each rule needs.
        self._by_asset: dict[str, list[SensorInfo]] = {}
        self._tags_by_asset: dict[str, list[str]] = {}
        self._others_by_asset: dict[str, list[SensorInfo]] = {}
        self._scales_by_asset: dict[str, list[SensorInfo]] = {}
        for s in registry.sensors.values():
            if s.asset_id not in registry.assets:
                continue
            self._by_asset.setdefault(s.asset_id, []).append(s)
            if s.kind is SensorKind.RFID_TAG:
                self._tags_by_asset.setdefault(s.asset_id, []).append(s.id)
            else:
                self._others_by_asset.setdefault(s.asset_id, []).append(s)
            if s.kind is SensorKind.SCALE:
                self._scales_by_asset.setdefault(s.asset_id, []).append(s)
        for order in registry.releases:
            self._release_left.setdefault(order.id, order.quantity)

    def _sensors_of(self, asset_id: str) -> list[SensorInfo]:
        return self._by_asset.get(asset_id, [])

    def adopt_open_alerts(self, scope_to_key: dict[str, str]) -> None:
        """Alerts still open in the graph: a condition that persists keeps its incident key."""
        self._known_open.update(scope_to_key)

    # -- readings ------------------------------------------------------------------------------

    def apply(self, readings: Iterable[Reading]) -> list[AlertEvent]:
        """Apply readings in event-time order, evaluating each tick they pass."""
        alerts: list[AlertEvent] = []
        tick = self._tick_us
        sensor_asset = self._sensor_asset
        tracks = self._tracks
        last_seen = self.last_seen
        for r in sorted(readings, key=_ts_of):
            ts = r.ts_us
            if self.next_tick_us is None:
                self.start_us = ts
                self.next_tick_us = (ts // tick + 1) * tick
            elif ts >= self.next_tick_us:
                if ts - self.next_tick_us > 100 * tick:  # a long gap: skip the empty ticks
                    self.next_tick_us = (ts // tick) * tick
                while ts >= self.next_tick_us:
                    alerts += self.evaluate(self.next_tick_us)
                    self.next_tick_us += tick
            sid = r.sensor_id
            if ts > last_seen.get(sid, -1):
                last_seen[sid] = ts
            asset_id = sensor_asset.get(sid)
            if asset_id is None:
                continue
            track = tracks[asset_id]
            if track.first_us is None or ts < track.first_us:
                track.first_us = ts
            kind = r.kind
            if kind == ReadingKind.PRESENCE:
                if ts > track.tags.get(sid, -1):
                    track.tags[sid] = ts
            elif kind != ReadingKind.HEARTBEAT:
                self._update_probe(r, track.info)
        return alerts

    def _update_probe(self, r: Reading, asset: AssetInfo) -> None:
        probe = self._probes.get(r.sensor_id)
        if probe is None:
            probe = self._probes[r.sensor_id] = _Probe()
        if r.ts_us < probe.ts:
            return  # out of order: older than what we hold, the raw store keeps it
        probe.ts, probe.value, probe.value2 = r.ts_us, r.value, r.value2
        kind = r.kind
        outside = False
        if kind == ReadingKind.POSITION and asset.geofence is not None and r.value2 is not None:
            fence = asset.geofence
            probe.distance_m = haversine_m(fence.lat, fence.lon, r.value, r.value2)
            outside = probe.distance_m > fence.radius_m
        elif kind == ReadingKind.TEMPERATURE:
            outside = (asset.temp_min is not None and r.value < asset.temp_min) or (
                asset.temp_max is not None and r.value > asset.temp_max
            )
            self._drift(r)
        elif kind == ReadingKind.HUMIDITY:
            outside = asset.humidity_max is not None and r.value > asset.humidity_max
            self._drift(r)
        probe.outside = probe.outside + 1 if outside else 0

    def _drift(self, r: Reading) -> None:
        c = self._cusum.get(r.sensor_id)
        if c is None:
            c = self._cusum[r.sensor_id] = _Cusum()
        if r.ts_us > c.last_ts:
            c.last_ts = r.ts_us
            c.update(r.value, self.rules)

    # -- evaluation ----------------------------------------------------------------------------

    def evaluate(self, now_us: int) -> list[AlertEvent]:
        """Evaluate every rule at `now_us`; returns newly opened incidents."""
        active: dict[str, tuple[AlertKind, str, str | None, Severity, str, dict[str, Any]]] = {}
        cfg = self.rules
        for track in self._tracks.values():
            asset = track.info
            if asset.id not in self._by_asset or (self.only_fed_assets and track.first_us is None):
                continue
            for cond in self._conditions(track, now_us):
                active[cond[1]] = cond
        opened: list[AlertEvent] = []
        for scope, (kind, _, sensor_id, severity, message, evidence) in active.items():
            episode = self._episodes.get(scope)
            if episode is not None:
                episode.quiet_ticks = 0
                continue
            key = self._known_open.pop(scope, None) or f"{scope}@{from_us(now_us).isoformat()}"
            self._episodes[scope] = _Episode(key, now_us)
            asset_id = scope.split(":")[1]
            opened.append(
                AlertEvent(
                    key=key,
                    scope=scope,
                    kind=kind,
                    severity=severity,
                    asset_id=asset_id,
                    sensor_id=sensor_id,
                    first_evidence_at=from_us(now_us),
                    raised_at=from_us(now_us),
                    message=message,
                    evidence=evidence,
                )
            )
        for scope in [s for s in self._episodes if s not in active]:
            episode = self._episodes[scope]
            episode.quiet_ticks += 1
            if episode.quiet_ticks >= cfg.clear_ticks:
                self.cleared.append((episode.key, from_us(now_us)))
                del self._episodes[scope]
        self._value_all(now_us)
        return opened

    def _conditions(
        self, track: _AssetTrack, now_us: int
    ) -> Iterable[tuple[AlertKind, str, str | None, Severity, str, dict[str, Any]]]:
        cfg = self.rules
        asset = track.info
        if asset.id in self._tags_by_asset:
            yield from self._herd(track, now_us)
        scales = self._scales_by_asset.get(asset.id)
        if scales:
            yield from self._stock(track, scales, now_us)
        for s in self._others_by_asset.get(asset.id, ()):
            probe = self._probes.get(s.id)
            if probe is not None and probe.outside >= cfg.confirm_readings:
                if s.kind is SensorKind.GPS and asset.geofence is not None:
                    yield (
                        AlertKind.GEOFENCE_EXIT,
                        f"{AlertKind.GEOFENCE_EXIT}:{asset.id}:{s.id}",
                        s.id,
                        _SEVERITY[AlertKind.GEOFENCE_EXIT],
                        f"tracker {s.id} is {probe.distance_m:.0f} m from the centre of the "
                        f"{asset.geofence.radius_m:.0f} m geofence",
                        {
                            "lat": probe.value,
                            "lon": probe.value2,
                            "distance_m": round(probe.distance_m or 0.0, 1),
                            "radius_m": asset.geofence.radius_m,
                            "fix_at": from_us(probe.ts).isoformat(),
                        },
                    )
                elif s.kind is SensorKind.THERMOMETER:
                    yield (
                        AlertKind.TEMPERATURE_OUT_OF_RANGE,
                        f"{AlertKind.TEMPERATURE_OUT_OF_RANGE}:{asset.id}:{s.id}",
                        s.id,
                        _SEVERITY[AlertKind.TEMPERATURE_OUT_OF_RANGE],
                        f"{s.id} reads {probe.value:.1f} C, limits "
                        f"[{asset.temp_min}, {asset.temp_max}]",
                        {"value": probe.value, "min": asset.temp_min, "max": asset.temp_max},
                    )
                elif s.kind is SensorKind.HYGROMETER:
                    yield (
                        AlertKind.HUMIDITY_OUT_OF_RANGE,
                        f"{AlertKind.HUMIDITY_OUT_OF_RANGE}:{asset.id}:{s.id}",
                        s.id,
                        _SEVERITY[AlertKind.HUMIDITY_OUT_OF_RANGE],
                        f"{s.id} reads {probe.value:.0f} %RH, limit {asset.humidity_max}",
                        {"value": probe.value, "max": asset.humidity_max},
                    )
            c = self._cusum.get(s.id)
            if c is not None and c.n >= cfg.drift_warmup:
                scope = f"{AlertKind.DRIFT}:{asset.id}:{s.id}"
                # Latched: an open drift incident holds until the CUSUM falls below h/2.
                h = cfg.drift_h_sigma / 2 if scope in self._episodes else cfg.drift_h_sigma
                if c.pos > h or c.neg > h:
                    direction = "up" if c.pos >= c.neg else "down"
                    yield (
                        AlertKind.DRIFT,
                        scope,
                        s.id,
                        _SEVERITY[AlertKind.DRIFT],
                        f"{s.id} drifts {direction} from its baseline {c.mean:.2f}",
                        {
                            "baseline": round(c.mean, 3),
                            "sigma": round(c.sigma(cfg), 3),
                            "cusum": round(max(c.pos, c.neg), 2),
                            "direction": direction,
                            "latest": probe.value if probe else None,
                        },
                    )
            last = self.last_seen.get(s.id, self.start_us if self.start_us is not None else now_us)
            limit_us = int(max(cfg.silence_factor * s.expected_interval_s, cfg.silence_min_s) * _S)
            if now_us - last > limit_us:
                yield (
                    AlertKind.SENSOR_SILENT,
                    f"{AlertKind.SENSOR_SILENT}:{asset.id}:{s.id}",
                    s.id,
                    _SEVERITY[AlertKind.SENSOR_SILENT],
                    f"{s.kind} {s.id} silent for {(now_us - last) // _S // 60} min",
                    {
                        "last_seen": from_us(last).isoformat(),
                        "expected_interval_s": s.expected_interval_s,
                    },
                )

    def _herd(
        self, track: _AssetTrack, now_us: int
    ) -> Iterable[tuple[AlertKind, str, str | None, Severity, str, dict[str, Any]]]:
        cfg = self.rules
        window = cfg.herd_window_s * _S
        if track.first_us is None or now_us - track.first_us < window:
            return
        head = self.head_count(track, now_us)
        expected = int(track.info.quantity)
        missing = expected - head
        tolerance = max(cfg.herd_tolerance_abs, math.ceil(expected * cfg.herd_tolerance_rel))
        if missing > tolerance:
            since = now_us - window
            gone = sorted(t for t in self._tags_of(track.info.id) if track.tags.get(t, -1) < since)
            severity = Severity.CRITICAL if missing >= 0.1 * expected else Severity.HIGH
            camera = self._camera_count(track.info.id)
            yield (
                AlertKind.HERD_COUNT_DROP,
                f"{AlertKind.HERD_COUNT_DROP}:{track.info.id}",
                None,
                severity,
                f"{head} of {expected} pledged head sighted in the last "
                f"{cfg.herd_window_s // 60} min",
                {
                    "expected": expected,
                    "head_count": head,
                    "missing": missing,
                    "camera_count": camera,
                    "unseen_tags": gone[:50],
                    "window_s": cfg.herd_window_s,
                },
            )

    def _stock(
        self, track: _AssetTrack, scales: list[SensorInfo], now_us: int
    ) -> Iterable[tuple[AlertKind, str, str | None, Severity, str, dict[str, Any]]]:
        cfg = self.rules
        weight = self.weight_kg(scales)
        if weight is None:
            return
        if track.reference_kg is None:
            track.reference_kg = weight
            return
        tol = cfg.stock_tolerance_rel * track.reference_kg
        drop = track.reference_kg - weight
        if drop < -tol:  # stock came in
            track.reference_kg = weight
            track.low_ticks = 0
            return
        if drop <= tol:
            track.low_ticks = 0
            return
        asset = track.info
        covered = Decimal(0)
        orders = [
            o
            for o in self.registry.releases
            if o.asset_id == asset.id
            and o.valid_from <= from_us(now_us) <= o.valid_to
            and self._release_left.get(o.id, Decimal(0)) > 0
        ]
        for o in orders:
            covered += convert(self._release_left[o.id], asset.unit, "kg")
        if float(covered) + tol >= drop:
            remaining = Decimal(str(drop))
            for o in orders:
                left_kg = convert(self._release_left[o.id], asset.unit, "kg")
                take = min(left_kg, remaining)
                self._release_left[o.id] = convert(left_kg - take, "kg", asset.unit)
                remaining -= take
            track.reference_kg = weight
            track.low_ticks = 0
            return
        track.low_ticks += 1
        if track.low_ticks < cfg.stock_confirm_ticks:
            return
        hour = (now_us // (3600 * _S) + cfg.utc_offset_h) % 24
        start, end = cfg.night_hours
        night = hour >= start or hour < end
        yield (
            AlertKind.STOCK_WITHOUT_RELEASE,
            f"{AlertKind.STOCK_WITHOUT_RELEASE}:{asset.id}",
            None,
            _SEVERITY[AlertKind.STOCK_WITHOUT_RELEASE],
            f"stock fell {drop / 1000:.1f} t below {track.reference_kg / 1000:.1f} t "
            "with no release order covering it" + (" (at night)" if night else ""),
            {
                "reference_kg": round(track.reference_kg, 1),
                "measured_kg": round(weight, 1),
                "drop_kg": round(drop, 1),
                "release_cover_kg": float(covered),
                "night": night,
            },
        )

    # -- state ---------------------------------------------------------------------------------

    def _tags_of(self, asset_id: str) -> list[str]:
        return self._tags_by_asset.get(asset_id, [])

    def head_count(self, track: _AssetTrack, now_us: int) -> int:
        since = now_us - self.rules.herd_window_s * _S
        return sum(1 for ts in track.tags.values() if ts >= since)

    def weight_kg(self, scales: list[SensorInfo]) -> float | None:
        """Sum of the latest weight on every scale, once every scale has spoken."""
        total = 0.0
        for s in scales:
            probe = self._probes.get(s.id)
            if probe is None:
                return None
            total += probe.value
        return total

    def _camera_count(self, asset_id: str) -> int | None:
        for s in self._sensors_of(asset_id):
            if s.kind is SensorKind.CAMERA_COUNTER and s.id in self._probes:
                return int(self._probes[s.id].value)
        return None

    def measured_quantity(self, asset_id: str, now_us: int) -> Decimal | None:
        """Quantity in the asset's unit as the sensors see it, None when they cannot say."""
        track = self._tracks[asset_id]
        if asset_id in self._tags_by_asset:
            if track.first_us is None or now_us - track.first_us < self.rules.herd_window_s * _S:
                return None
            return Decimal(self.head_count(track, now_us))
        scales = self._scales_by_asset.get(asset_id)
        if scales:
            weight = self.weight_kg(scales)
            if weight is None:
                return None
            kg = Decimal(str(round(weight, 3)))
            return convert(kg, "kg", track.info.unit)
        return track.info.quantity

    def _value_all(self, now_us: int) -> None:
        for asset_id, track in self._tracks.items():
            price = self.prices.price_for(track.info)
            if price is None or not self._sensors_of(asset_id):
                continue
            if self.only_fed_assets and track.first_us is None:
                continue
            qty = self.measured_quantity(asset_id, now_us)
            if qty is None:
                continue
            value = value_of(qty, track.info.unit, price)
            last = track.last_value
            if last is not None and abs(value - last) <= self.rules.valuation_materiality * last:
                continue  # scale noise is not a revaluation
            track.last_value = value
            self.valuations.append(
                Valuation(asset_id, qty, track.info.unit, value, price.currency, from_us(now_us))
            )
            for hook in self.on_valuation:
                hook(asset_id, value, price.currency)

    def state(self, asset_id: str, now_us: int | None = None) -> AssetState:
        """Current derived state of one asset (event time `now_us`, default the last tick)."""
        track = self._tracks[asset_id]
        now = now_us if now_us is not None else (self.next_tick_us or 0) - self._tick_us
        sensors = self._sensors_of(asset_id)
        st = AssetState(asset_id=asset_id, as_of=from_us(now) if now > 0 else None)
        st.unit = track.info.unit
        st.measured_quantity = self.measured_quantity(asset_id, now)
        if any(s.id in self._tag_ids for s in sensors):
            st.head_count = self.head_count(track, now)
        st.camera_count = self._camera_count(asset_id)
        scales = [s for s in sensors if s.kind is SensorKind.SCALE]
        if scales:
            st.weight_kg = self.weight_kg(scales)
        for s in sensors:
            probe = self._probes.get(s.id)
            if probe is None:
                continue
            if s.kind is SensorKind.GPS:
                st.lat, st.lon, st.distance_m = probe.value, probe.value2, probe.distance_m
                if track.info.geofence is not None and probe.distance_m is not None:
                    st.inside_geofence = probe.distance_m <= track.info.geofence.radius_m
            elif s.kind is SensorKind.THERMOMETER:
                st.temperature = probe.value
            elif s.kind is SensorKind.HYGROMETER:
                st.humidity = probe.value
        st.silent_sensors = sorted(
            scope.rsplit(":", 1)[1]
            for scope in self._episodes
            if scope.startswith(f"{AlertKind.SENSOR_SILENT}:{asset_id}:")
        )
        if track.last_value is not None:
            price = self.prices.price_for(track.info)
            st.value_minor = track.last_value
            st.currency = price.currency if price else None
        return st

    def states(self) -> list[AssetState]:
        return [self.state(a) for a, t in self._tracks.items() if t.first_us is not None]


def _ts_of(r: Reading) -> int:
    return r.ts_us
