"""A deterministic telemetry simulator: collateral, its sensors, normal days, planted incidents.

`build_scenario(seed, start, days)` returns the registry (assets, sensors, release orders),
every reading as `(sensor_id, payload)` in time order, and the planted incidents with the
time their first tell-tale reading is due, so a test can measure detection delay. Normal
days include a legitimate daytime release of stock under a release order, which must *not*
raise an alert. Incidents are planted on the last day:

- cattle sold off: a share of a herd's ear tags stop being sighted (herd_count_drop);
- stock moved out at night, no release order (stock_without_release);
- a GPS tracker leaves its geofence (geofence_exit);
- a hygrometer goes silent (sensor_silent);
- a cold store's refrigeration fails slowly (drift, then temperature_out_of_range).

    python -m sensors.simulator --port 1883 --days 3 --seed 7 [--register]
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Annotated, Any

import typer

from sensors.model import (
    READING_SPECS,
    AlertKind,
    AssetInfo,
    Geofence,
    Registry,
    ReleaseOrder,
    SensorInfo,
    SensorKind,
)
from sensors.mqtt import FastClient, connect, topic_for

CST = timezone(timedelta(hours=8))


@dataclass(frozen=True, slots=True)
class Incident:
    kind: AlertKind
    asset_id: str
    sensor_id: str | None
    first_reading_at: datetime  # when the first reading that shows it is (or was) due
    description: str


@dataclass(slots=True)
class Scenario:
    registry: Registry
    readings: list[tuple[str, dict[str, Any]]]
    incidents: list[Incident]
    warehouses: dict[str, tuple[float, float]]
    start: datetime
    end: datetime
    owners: dict[str, str] = field(default_factory=dict)

    def payloads(self) -> Iterator[tuple[str, bytes]]:
        for sensor_id, payload in self.readings:
            yield sensor_id, json.dumps(payload, separators=(",", ":")).encode()

    def normal_until(self) -> datetime:
        """Before this instant nothing abnormal was planted."""
        return min((i.first_reading_at for i in self.incidents), default=self.end)


class _Builder:
    def __init__(self, seed: int, start: datetime, days: int, incidents: bool) -> None:
        self.rng = random.Random(seed)
        self.start = start
        self.end = start + timedelta(days=days)
        self.incident_day = start + timedelta(days=days - 1) if incidents else None
        self.registry = Registry()
        self.rows: list[tuple[datetime, str, int, dict[str, Any]]] = []
        self.seq: dict[str, int] = {}
        self.incidents: list[Incident] = []
        self.warehouses: dict[str, tuple[float, float]] = {}

    def sensor(self, sid: str, kind: SensorKind, asset: str, wh: str | None, every_s: int) -> str:
        self.registry.sensors[sid] = SensorInfo(sid, kind, asset, wh, every_s)
        return sid

    def emit(self, sid: str, ts: datetime, value: Any) -> None:
        info = self.registry.sensors[sid]
        spec = READING_SPECS[info.kind]
        seq = self.seq.get(sid, 0) + 1
        self.seq[sid] = seq
        if isinstance(value, float):
            value = round(value, 3)
        payload = {
            "ts": ts.isoformat(),
            "kind": spec.kind.value,
            "value": value,
            "unit": spec.unit,
            "seq": seq,
        }
        self.rows.append((ts, sid, seq, payload))

    def times(self, every_s: int, phase_s: int = 0) -> Iterator[datetime]:
        t = self.start + timedelta(seconds=phase_s)
        step = timedelta(seconds=every_s)
        while t < self.end:
            yield t
            t += step

    def at(self, hour: int, minute: int = 0) -> datetime | None:
        """Local time on the incident day."""
        if self.incident_day is None:
            return None
        return self.incident_day.replace(hour=hour, minute=minute)

    # -- assets --------------------------------------------------------------------------------

    def herd(self, n: int, head: int, sell: int, sell_at: tuple[int, int] | None) -> None:
        rng = self.rng
        aid, ranch = f"HERD-{n}", f"RANCH-{n}"
        self.warehouses[ranch] = (43.9 + n * 0.1, 116.0 + n * 0.1)
        self.registry.assets[aid] = AssetInfo(
            id=aid,
            kind="livestock",
            quantity=Decimal(head),
            unit="head",
            owner_id=f"E-RANCH-{n}",
            goods_id="G-CATTLE",
            warehouse_id=ranch,
            unit_value=1_200_000,
            financing_ids=(f"F-HERD-{n}",),
        )
        tags = [
            self.sensor(f"TAG-{n}-{i:03d}", SensorKind.RFID_TAG, aid, ranch, 600)
            for i in range(head)
        ]
        reader = self.sensor(f"RDR-{n}", SensorKind.RFID_READER, aid, ranch, 600)
        camera = self.sensor(f"CAM-{n}", SensorKind.CAMERA_COUNTER, aid, ranch, 1800)
        sold_at = self.at(*sell_at) if sell_at else None
        sold = set(rng.sample(tags, sell)) if sold_at else set()
        if sold_at is not None:
            self.incidents.append(
                Incident(
                    AlertKind.HERD_COUNT_DROP,
                    aid,
                    None,
                    sold_at,
                    f"{sell} of {head} cattle sold off at {sold_at:%H:%M}",
                )
            )
        for t in self.times(600):
            present = [tag for tag in tags if not (sold_at and t >= sold_at and tag in sold)]
            seen = 0
            for tag in present:
                if rng.random() < 0.9:
                    jitter = timedelta(seconds=rng.randrange(0, 590))
                    self.emit(tag, t + jitter, -60.0 + rng.gauss(0, 6))
                    seen += 1
            self.emit(reader, t, seen)
            if t.minute % 30 == 0:
                self.emit(camera, t, len(present))

    def stock(
        self,
        n: int,
        tonnes: int,
        scales: int,
        temp: tuple[float, float, float],
        release: bool,
        night_move_t: int,
        silent_hygrometer: bool,
        drift: bool,
    ) -> None:
        rng = self.rng
        aid, wh = f"STOCK-{n}", f"WH-{n}"
        self.warehouses[wh] = (31.2 + n * 0.01, 121.5 + n * 0.01)
        base, t_min, t_max = temp
        self.registry.assets[aid] = AssetInfo(
            id=aid,
            kind="inventory",
            quantity=Decimal(tonnes),
            unit="t",
            owner_id=f"E-TRADER-{n}",
            goods_id="G-COPPER" if base > 0 else "G-BEEF",
            warehouse_id=wh,
            unit_value=6_800_000 if base > 0 else 4_000_000,
            temp_min=t_min,
            temp_max=t_max,
            humidity_max=80.0,
            financing_ids=(f"F-STOCK-{n}",),
        )
        scale_ids = [
            self.sensor(f"SCL-{n}-{i}", SensorKind.SCALE, aid, wh, 300) for i in range(scales)
        ]
        thermo = self.sensor(f"TH-{n}", SensorKind.THERMOMETER, aid, wh, 600)
        hygro = self.sensor(f"HY-{n}", SensorKind.HYGROMETER, aid, wh, 600)

        day2 = self.start + timedelta(days=1)
        out: list[tuple[datetime, datetime, float]] = []  # (from, to, tonnes)
        if release:
            valid_from = day2.replace(hour=8)
            self.registry.releases.append(
                ReleaseOrder(f"RO-{n}", aid, Decimal(100), valid_from, day2.replace(hour=18))
            )
            out.append((day2.replace(hour=10), day2.replace(hour=11), 100.0))
        night = self.at(2, 0)
        if night is not None and night_move_t:
            out.append((night, night + timedelta(hours=1), float(night_move_t)))
            self.incidents.append(
                Incident(
                    AlertKind.STOCK_WITHOUT_RELEASE,
                    aid,
                    None,
                    night + timedelta(minutes=5),
                    f"{night_move_t} t moved out of {wh} at 02:00 without a release order",
                )
            )
        for t in self.times(300):
            moved = 0.0
            for a, b, qty in out:
                if t >= b:
                    moved += qty
                elif t > a:
                    moved += qty * (t - a) / (b - a)
            per_scale_kg = (tonnes - moved) * 1000 / scales
            for sid in scale_ids:
                self.emit(sid, t, max(0.0, per_scale_kg * (1 + rng.gauss(0, 0.0005))))

        silent_from = self.at(9, 0) if silent_hygrometer else None
        drift_from = self.at(12, 0) if drift else None
        if silent_from is not None:
            self.incidents.append(
                Incident(
                    AlertKind.SENSOR_SILENT,
                    aid,
                    hygro,
                    silent_from,
                    f"hygrometer {hygro} silent from 09:00",
                )
            )
        if drift_from is not None:
            self.incidents.append(
                Incident(
                    AlertKind.DRIFT,
                    aid,
                    thermo,
                    drift_from,
                    "refrigeration failing slowly from 12:00",
                )
            )
        first_over: datetime | None = None
        for t in self.times(600, phase_s=30):
            value = base + rng.gauss(0, 0.3)
            if drift_from is not None and t >= drift_from:
                value += 0.08 * ((t - drift_from) // timedelta(minutes=10) + 1)
            self.emit(thermo, t, value)
            if drift_from is not None and value > t_max and first_over is None:
                first_over = t
            if silent_from is None or t < silent_from:
                self.emit(hygro, t, 55.0 + rng.gauss(0, 2.0))
        if first_over is not None:
            self.incidents.append(
                Incident(
                    AlertKind.TEMPERATURE_OUT_OF_RANGE,
                    aid,
                    thermo,
                    first_over,
                    f"temperature above {t_max} C from {first_over:%H:%M}",
                )
            )

    def tracker(self, n: int, leave_at: tuple[int, int] | None) -> None:
        rng = self.rng
        aid = f"EQUIP-{n}"
        lat0, lon0 = 30.5 + n * 0.01, 114.3 + n * 0.01
        self.registry.assets[aid] = AssetInfo(
            id=aid,
            kind="equipment",
            quantity=Decimal(1),
            unit="pcs",
            owner_id=f"E-BUILDER-{n}",
            goods_id="G-EXCAVATOR",
            unit_value=80_000_000,
            geofence=Geofence(lat0, lon0, 300.0),
            financing_ids=(f"F-EQUIP-{n}",),
        )
        gps = self.sensor(f"GPS-{n}", SensorKind.GPS, aid, None, 300)
        leave = self.at(*leave_at) if leave_at else None
        first_out: datetime | None = None
        m_per_deg = 111_320.0
        for t in self.times(300, phase_s=10):
            north = rng.gauss(0, 15.0)
            east = rng.gauss(0, 15.0)
            if leave is not None and t > leave:
                north += 400.0 * ((t - leave) // timedelta(minutes=5))
            lat = lat0 + north / m_per_deg
            lon = lon0 + east / (m_per_deg * math.cos(math.radians(lat0)))
            self.emit(gps, t, [round(lat, 6), round(lon, 6)])
            if leave is not None and first_out is None and math.hypot(north, east) > 300.0:
                first_out = t
        if leave is not None and first_out is not None:
            self.incidents.append(
                Incident(
                    AlertKind.GEOFENCE_EXIT,
                    aid,
                    gps,
                    first_out,
                    f"excavator {aid} driven off site at {leave:%H:%M}",
                )
            )

    def scenario(self) -> Scenario:
        self.rows.sort(key=lambda r: (r[0], r[1], r[2]))
        owners = {a.id: a.owner_id or "" for a in self.registry.assets.values()}
        return Scenario(
            registry=self.registry,
            readings=[(sid, payload) for _, sid, _, payload in self.rows],
            incidents=sorted(self.incidents, key=lambda i: i.first_reading_at),
            warehouses=self.warehouses,
            start=self.start,
            end=self.end,
            owners=owners,
        )


def build_scenario(
    seed: int = 7,
    start: datetime | None = None,
    days: int = 3,
    *,
    incidents: bool = True,
    herds: int = 2,
    head: int = 50,
) -> Scenario:
    """The standard scenario; incidents on the last day when `incidents` is true."""
    start = start or datetime(2026, 10, 1, tzinfo=CST)
    b = _Builder(seed, start, days, incidents)
    for n in range(1, herds + 1):
        b.herd(
            n,
            head if n == 1 else max(10, head // 2),
            sell=15 if n == 1 else 0,
            sell_at=(14, 0) if n == 1 else None,
        )
    b.stock(
        1,
        500,
        4,
        (15.0, 0.0, 35.0),
        release=True,
        night_move_t=120,
        silent_hygrometer=False,
        drift=False,
    )
    b.stock(
        2,
        200,
        2,
        (-18.0, -25.0, -15.0),
        release=False,
        night_move_t=0,
        silent_hygrometer=True,
        drift=True,
    )
    b.tracker(1, leave_at=(20, 0))
    b.tracker(2, leave_at=None)
    return b.scenario()


def publish(
    scenario: Scenario,
    host: str,
    port: int,
    *,
    client_id: str = "chainlens-simulator",
    rate: float | None = None,
) -> int:
    """Publish every reading at QoS 1 (at most `rate` a second) and wait for the broker's
    PUBACKs; returns how many were published."""
    client = FastClient(client_id)
    connect(client, host, port)
    count = 0
    started = time.monotonic()
    for sensor_id, payload in scenario.payloads():
        client.publish(topic_for(sensor_id), payload, qos=1)
        count += 1
        if count % 500 == 0:
            client.loop(0)
            if rate:
                ahead = count / rate - (time.monotonic() - started)
                if ahead > 0:
                    time.sleep(ahead)
    deadline = time.monotonic() + 60
    while client._out_messages and time.monotonic() < deadline:
        client.loop(0.01)
    client.disconnect()
    return count


cli = typer.Typer(add_completion=False, help="Publish simulated telemetry over MQTT.")


@cli.command()
def main(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 1883,
    seed: Annotated[int, typer.Option()] = 7,
    days: Annotated[int, typer.Option()] = 3,
    rate: Annotated[float | None, typer.Option(help="readings per second")] = None,
    register: Annotated[bool, typer.Option(help="write assets and sensors to the graph")] = False,
    registry_out: Annotated[str | None, typer.Option(help="write the registry JSON here")] = None,
) -> None:
    """Build the scenario, optionally register it, and publish it."""
    scenario = build_scenario(seed=seed, days=days)
    if registry_out:
        with open(registry_out, "w", encoding="utf-8") as f:
            f.write(scenario.registry.to_json())
    if register:
        from chainlens.settings import get_settings
        from graph.driver import open_driver
        from sensors.registry import register_scenario

        settings = get_settings()
        with open_driver(settings) as driver:
            register_scenario(driver, settings.neo4j_database, scenario)
    n = publish(scenario, host, port, rate=rate)
    for incident in scenario.incidents:
        typer.echo(f"planted {incident.kind} on {incident.asset_id}: {incident.description}")
    typer.echo(f"published {n} readings")


if __name__ == "__main__":
    cli(prog_name="python -m sensors.simulator")
