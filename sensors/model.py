"""Domain types of the sensors package: device and reading kinds, the registry snapshot the
intake validates against, readings, batch results, alerts and collateral state.

These are plain dataclasses and enums; the API translates them into its own types.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from graph.model import AlertStatus as GraphAlertStatus

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
US = timedelta(microseconds=1)


def to_us(ts: datetime) -> int:
    """Microseconds since the epoch, exactly (no float rounding)."""
    return (ts - EPOCH) // US


def from_us(ts_us: int) -> datetime:
    return EPOCH + timedelta(microseconds=ts_us)


class SensorKind(StrEnum):
    RFID_TAG = "rfid_tag"
    RFID_READER = "rfid_reader"
    SCALE = "scale"
    GPS = "gps"
    THERMOMETER = "thermometer"
    HYGROMETER = "hygrometer"
    CAMERA_COUNTER = "camera_counter"


class ReadingKind(StrEnum):
    PRESENCE = "presence"  # an ear tag sighted by a reader; value = RSSI
    HEARTBEAT = "heartbeat"  # a gateway's liveness; value = tags in range
    WEIGHT = "weight"
    POSITION = "position"  # value = [lat, lon]
    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class ReadingSpec:
    """What one kind of sensor may send: its reading kind, unit and physically possible range."""

    kind: ReadingKind
    unit: str
    lo: float
    hi: float
    integer: bool = False
    interval_s: int = 600  # expected reporting interval, for freshness


# One reading kind per sensor kind keeps validation a dictionary lookup.
READING_SPECS: dict[SensorKind, ReadingSpec] = {
    SensorKind.RFID_TAG: ReadingSpec(ReadingKind.PRESENCE, "dBm", -130.0, 0.0),
    SensorKind.RFID_READER: ReadingSpec(ReadingKind.HEARTBEAT, "tags", 0, 100_000, integer=True),
    SensorKind.SCALE: ReadingSpec(ReadingKind.WEIGHT, "kg", 0.0, 100_000_000.0),
    SensorKind.GPS: ReadingSpec(ReadingKind.POSITION, "deg", -180.0, 180.0),
    SensorKind.THERMOMETER: ReadingSpec(ReadingKind.TEMPERATURE, "C", -80.0, 100.0),
    SensorKind.HYGROMETER: ReadingSpec(ReadingKind.HUMIDITY, "%RH", 0.0, 100.0),
    SensorKind.CAMERA_COUNTER: ReadingSpec(ReadingKind.COUNT, "head", 0, 1_000_000, integer=True),
}


class Reading(NamedTuple):
    """One validated reading. `value2` carries the longitude of a position; `seq` is the
    device's own counter when it sends one."""

    sensor_id: str
    ts_us: int
    kind: str
    value: float
    value2: float | None
    unit: str
    seq: int | None


class RejectReason(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN_DEVICE = "unknown_device"
    WRONG_KIND = "wrong_kind"
    WRONG_UNIT = "wrong_unit"
    IMPOSSIBLE_VALUE = "impossible_value"
    NAIVE_TIMESTAMP = "naive_timestamp"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_LATE = "too_late"


@dataclass(frozen=True, slots=True)
class Rejection:
    index: int
    sensor_id: str | None
    reason: RejectReason
    detail: str


@dataclass(slots=True)
class BatchResult:
    """What happened to each reading of a batch: stored, dropped as a duplicate, or rejected."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def merge(self, other: BatchResult) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected.extend(other.rejected)


@dataclass(frozen=True, slots=True)
class Geofence:
    """A circle; enough for a ranch or a yard, and cheap to test against."""

    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class SensorInfo:
    id: str
    kind: SensorKind
    asset_id: str | None = None
    warehouse_id: str | None = None
    interval_s: int | None = None

    @property
    def spec(self) -> ReadingSpec:
        return READING_SPECS[self.kind]

    @property
    def expected_interval_s(self) -> int:
        return self.interval_s or self.spec.interval_s


@dataclass(frozen=True, slots=True)
class AssetInfo:
    """The pledged asset as the graph knows it; `quantity` is the pledged quantity."""

    id: str
    kind: str
    quantity: Decimal
    unit: str
    owner_id: str | None = None
    goods_id: str | None = None
    warehouse_id: str | None = None
    unit_value: int | None = None
    currency: str = "CNY"
    geofence: Geofence | None = None
    temp_min: float | None = None
    temp_max: float | None = None
    humidity_max: float | None = None
    financing_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReleaseOrder:
    """Permission to take `quantity` (in the asset's unit) out of the pledged stock."""

    id: str
    asset_id: str
    quantity: Decimal
    valid_from: datetime
    valid_to: datetime


@dataclass(slots=True)
class Registry:
    """The snapshot of devices, assets and release orders the intake validates against."""

    sensors: dict[str, SensorInfo] = field(default_factory=dict)
    assets: dict[str, AssetInfo] = field(default_factory=dict)
    releases: list[ReleaseOrder] = field(default_factory=list)

    def sensors_of(self, asset_id: str) -> list[SensorInfo]:
        return [s for s in self.sensors.values() if s.asset_id == asset_id]

    def to_json(self) -> str:
        return json.dumps(
            {
                "sensors": [asdict(s) for s in self.sensors.values()],
                "assets": [asdict(a) for a in self.assets.values()],
                "releases": [asdict(r) for r in self.releases],
            },
            default=_json_default,
        )

    @classmethod
    def from_json(cls, text: str) -> Registry:
        data = json.loads(text)
        sensors = {
            s["id"]: SensorInfo(
                id=s["id"],
                kind=SensorKind(s["kind"]),
                asset_id=s.get("asset_id"),
                warehouse_id=s.get("warehouse_id"),
                interval_s=s.get("interval_s"),
            )
            for s in data.get("sensors", [])
        }
        assets = {}
        for a in data.get("assets", []):
            fence = a.get("geofence")
            assets[a["id"]] = AssetInfo(
                id=a["id"],
                kind=a["kind"],
                quantity=Decimal(str(a["quantity"])),
                unit=a["unit"],
                owner_id=a.get("owner_id"),
                goods_id=a.get("goods_id"),
                warehouse_id=a.get("warehouse_id"),
                unit_value=a.get("unit_value"),
                currency=a.get("currency") or "CNY",
                geofence=Geofence(**fence) if fence else None,
                temp_min=a.get("temp_min"),
                temp_max=a.get("temp_max"),
                humidity_max=a.get("humidity_max"),
                financing_ids=tuple(a.get("financing_ids") or ()),
            )
        releases = [
            ReleaseOrder(
                id=r["id"],
                asset_id=r["asset_id"],
                quantity=Decimal(str(r["quantity"])),
                valid_from=datetime.fromisoformat(r["valid_from"]),
                valid_to=datetime.fromisoformat(r["valid_to"]),
            )
            for r in data.get("releases", [])
        ]
        return cls(sensors=sensors, assets=assets, releases=releases)

    @classmethod
    def load(cls, path: Path) -> Registry:
        return cls.from_json(path.read_text(encoding="utf-8"))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class AlertKind(StrEnum):
    HERD_COUNT_DROP = "herd_count_drop"
    STOCK_WITHOUT_RELEASE = "stock_without_release"
    GEOFENCE_EXIT = "geofence_exit"
    TEMPERATURE_OUT_OF_RANGE = "temperature_out_of_range"
    HUMIDITY_OUT_OF_RANGE = "humidity_out_of_range"
    SENSOR_SILENT = "sensor_silent"
    DRIFT = "drift"


AlertStatus = GraphAlertStatus  # the graph model's (`graph/model.py`)


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One incident. `key` is stable for the incident (scope plus the event time its
    condition first held), so raising it twice writes one `Alert` node."""

    key: str
    scope: str
    kind: AlertKind
    severity: Severity
    asset_id: str
    sensor_id: str | None
    first_evidence_at: datetime
    raised_at: datetime
    message: str
    evidence: dict[str, Any]

    def evidence_json(self) -> str:
        return json.dumps(self.evidence, sort_keys=True, default=_json_default)


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An alert as stored in the graph, for listing and acknowledging."""

    id: str
    kind: str
    severity: str
    status: str
    asset_id: str | None
    sensor_id: str | None
    message: str
    evidence: dict[str, Any]
    first_evidence_at: datetime
    raised_at: datetime
    cleared_at: datetime | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_note: str | None = None
    enterprise_ids: tuple[str, ...] = ()
    financing_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class AssetState:
    """Derived collateral state of one asset at `as_of` (event time)."""

    asset_id: str
    as_of: datetime | None = None
    measured_quantity: Decimal | None = None
    unit: str | None = None
    head_count: int | None = None
    camera_count: int | None = None
    weight_kg: float | None = None
    lat: float | None = None
    lon: float | None = None
    distance_m: float | None = None
    inside_geofence: bool | None = None
    temperature: float | None = None
    humidity: float | None = None
    silent_sensors: list[str] = field(default_factory=list)
    value_minor: int | None = None
    currency: str | None = None
