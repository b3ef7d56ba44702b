"""Telemetry intake: validate, deduplicate, store durably, then acknowledge and derive.

`Intake` is shared by both doors: `MqttIntake` (a persistent QoS 1 subscription with manual
acknowledgement) and `accept_batch` (what the API's REST route calls for HTTP batches). The
order is the guarantee: a batch is appended to the store and fsync'd *before* its PUBACKs
are sent (or the HTTP call returns), so a crash can lose only unacknowledged readings, which
the broker redelivers; redeliveries of readings already stored are dropped as duplicates.
Derived state and alerts come after the acknowledgement: they can be rebuilt from the store,
and the intake replays recent readings on start to do so.

Run it as a process:

    python -m sensors.intake --port 1883 --data-dir .chainlens/sensors [--registry-file F]
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from chainlens.logs import configure_logging, get_logger
from chainlens.settings import Settings, get_settings
from sensors.dedup import Deduplicator, Verdict
from sensors.engine import CollateralEngine, RuleConfig
from sensors.errors import InvalidBatch, StoreError
from sensors.model import BatchResult, Reading, Registry, Rejection, RejectReason, from_us
from sensors.mqtt import SUBSCRIPTION, FastClient, connect, sensor_of_raw, subscribe
from sensors.sink import MemorySink, OnAlerts, Sink
from sensors.store import ReadingStore, load_table, query
from sensors.validation import decode, validate
from sensors.valuation import OnValuation

log = get_logger(__name__)

_S = 1_000_000
MAX_HTTP_BATCH = 10_000
# The store keeps `seq` as a signed 64-bit integer: a larger counter is refused per reading
# instead of failing the whole batch when its Arrow column is built.
MAX_SEQ = 2**63 - 1
_RAW = (bytes, str)


@dataclass(frozen=True, slots=True)
class IntakeConfig:
    data_dir: Path
    writer: str = "mqtt"
    max_future_s: int = 300
    dedup_horizon_s: int = 2 * 86_400
    replay_s: int = 6 * 3_600
    state_flush_s: float = 2.0
    fsync: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, writer: str = "mqtt") -> IntakeConfig:
        return cls(
            data_dir=settings.sensors_dir or settings.state_dir / "sensors",
            writer=writer,
            max_future_s=settings.sensors_max_future_s,
            dedup_horizon_s=settings.sensors_dedup_horizon_s,
            replay_s=settings.sensors_replay_s,
        )


class Intake:
    """One writer's intake pipeline over the shared store. Not thread-safe: one caller."""

    def __init__(
        self,
        registry: Registry,
        config: IntakeConfig,
        *,
        engine: CollateralEngine | None = None,
        sink: Sink | None = None,
    ) -> None:
        self.config = config
        self.registry = registry
        self.engine = engine or CollateralEngine(registry, RuleConfig())
        self.sink: Sink = sink or MemorySink()
        self.store = ReadingStore(config.data_dir, writer=config.writer, fsync=config.fsync)
        self.dedup = Deduplicator(config.dedup_horizon_s * _S)
        self.totals = BatchResult()
        self._pending_alerts: list[Any] = []
        self._last_flush = time.monotonic()
        self._touched: dict[str, int] = {}
        self._lock = threading.Lock()

    # -- life cycle ----------------------------------------------------------------------------

    def open(self) -> None:
        """Open the store (compacting what a crash left) and rebuild dedup keys and state."""
        self.store.open()
        self._recover()

    def close(self) -> None:
        self.flush_state(force=True)
        self.store.close()

    def set_registry(self, registry: Registry) -> None:
        self.registry = registry
        self.engine.set_registry(registry)

    def _recover(self) -> None:
        root = self.config.data_dir
        (latest,) = query(root, "SELECT epoch_us(max(ts)) FROM readings")[0]
        if latest is None:
            return
        horizon = self.config.dedup_horizon_s * _S
        replay_from = latest - self.config.replay_s * _S
        table = load_table(root, since_us=min(latest - horizon, replay_from))
        ts = table["ts"].cast("int64").to_pylist()
        sensor_ids = table["sensor_id"].to_pylist()
        seqs = table["seq"].to_pylist()
        self.dedup.seed(zip(sensor_ids, ts, seqs, strict=True))
        self.engine.adopt_open_alerts(self.sink.open_alerts())
        replay = [
            Reading(s, t, k, v, v2, u, q)
            for s, t, k, v, v2, u, q in zip(
                sensor_ids,
                ts,
                table["kind"].to_pylist(),
                table["value"].to_pylist(),
                table["value2"].to_pylist(),
                table["unit"].to_pylist(),
                seqs,
                strict=True,
            )
            if t >= replay_from and s in self.registry.sensors
        ]
        self._pending_alerts += self.engine.apply(replay)
        self.flush_state(force=True)
        log.info("sensors.intake.recovered", keys=len(self.dedup), replayed=len(replay))

    # -- the pipeline --------------------------------------------------------------------------

    def ingest(
        self, items: Sequence[tuple[str | None, Any]], source: str
    ) -> tuple[BatchResult, list[Reading]]:
        """Validate, deduplicate and durably store `(sensor_id, payload)` items; returns the
        outcome and the new readings. Raises `StoreError` (nothing of the batch is kept).

        A reading counts as seen only once it is stored: the deduplicator's marks for the
        batch are undone when the write fails for any reason, so a retry stores it rather
        than answering "duplicate" for a reading that was never kept."""
        now_us = time.time_ns() // 1000
        future_us = self.config.max_future_s * _S
        sensors = self.registry.sensors
        result = BatchResult()
        fresh: list[Reading] = []
        rejects: list[dict[str, Any]] = []
        check = self.dedup.check
        for index, (sensor_id, payload) in enumerate(items):
            obj = decode(payload) if isinstance(payload, _RAW) else payload
            if sensor_id is None:
                outcome: Any = (RejectReason.MALFORMED, "no sensor id (topic or sensor_id field)")
            elif isinstance(obj, tuple):
                outcome = obj
            elif not isinstance(obj, Mapping):
                outcome = (RejectReason.MALFORMED, "reading must be an object")
            else:
                outcome = validate(sensor_id, obj, sensors, now_us, future_us)
            if isinstance(outcome, Reading) and outcome.seq is not None and outcome.seq > MAX_SEQ:
                outcome = (RejectReason.MALFORMED, f"seq must be below 2^63, not {outcome.seq}")
            if isinstance(outcome, Reading):
                verdict = check(outcome)
                if verdict is Verdict.NEW:
                    fresh.append(outcome)
                    continue
                if verdict is Verdict.DUPLICATE:
                    result.duplicates += 1
                    continue
                outcome = (RejectReason.TOO_LATE, "older than the deduplication horizon")
            reason, detail = outcome
            result.rejected.append(Rejection(index, sensor_id, reason, detail))
            rejects.append(
                {
                    "received_at": from_us(now_us).isoformat(),
                    "source": source,
                    "sensor_id": sensor_id,
                    "reason": reason.value,
                    "detail": detail,
                    "payload": _excerpt(payload),
                }
            )
        try:
            self.store.append(fresh, now_us, source)
        except Exception as e:  # whatever failed, the readings are not stored: not seen
            for r in fresh:
                self.dedup.forget(r)
            raise StoreError(f"batch of {len(items)} not stored: {e}") from e
        if rejects:
            try:
                self.store.append_rejects(rejects)
            except Exception as e:  # the readings are stored; the rejects file is a record
                log.error("sensors.intake.rejects_not_kept", error=repr(e), count=len(rejects))
        result.accepted = len(fresh)
        self.totals.merge(result)
        return result, fresh

    def derive(self, readings: Sequence[Reading]) -> None:
        """Update collateral state and raise alerts (after the acknowledgement)."""
        touched = self._touched
        for r in readings:
            if r.ts_us > touched.get(r.sensor_id, -1):
                touched[r.sensor_id] = r.ts_us
        self._pending_alerts += self.engine.apply(readings)
        self.flush_state()

    def advance_clock(self, now_us: int) -> None:
        """Evaluate ticks up to the wall clock (live operation: silence needs no readings)."""
        engine = self.engine
        while engine.next_tick_us is not None and now_us >= engine.next_tick_us:
            self._pending_alerts += engine.evaluate(engine.next_tick_us)
            engine.next_tick_us += engine.rules.tick_s * _S

    def flush_state(self, force: bool = False) -> None:
        """Write alerts now; write state, valuations and freshness every `state_flush_s`.
        A failing sink keeps the work for the next call (everything is idempotent)."""
        now = time.monotonic()
        try:
            if self._pending_alerts:
                self.sink.write_alerts(self._pending_alerts)
                self._pending_alerts = []
            if not force and now - self._last_flush < self.config.state_flush_s:
                return
            self._last_flush = now
            engine = self.engine
            if engine.cleared:
                self.sink.clear_alerts(engine.cleared)
                engine.cleared = []
            if engine.valuations:
                self.sink.write_valuations(engine.valuations)
                engine.valuations = []
            if self._touched:
                self.sink.touch_sensors(self._touched)
                self._touched = {}
            self.sink.write_states(engine.states())
        except Exception as e:  # the graph may be down; readings are safe in the store
            log.error("sensors.intake.sink_failed", error=str(e))

    def accept_batch(self, readings: Sequence[Mapping[str, Any]]) -> BatchResult:
        """HTTP batch: each reading carries `sensor_id`; returns once new ones are durable."""
        if not isinstance(readings, Sequence) or isinstance(readings, str | bytes):
            raise InvalidBatch("a batch is a JSON array of readings")
        if len(readings) > MAX_HTTP_BATCH:
            raise InvalidBatch(f"a batch holds at most {MAX_HTTP_BATCH} readings")
        # A sensor id that is not a string (a number, a list) is no id: the reading is malformed.
        items = [
            (
                sid
                if isinstance(r, Mapping) and isinstance(sid := r.get("sensor_id"), str)
                else None,
                r,
            )
            for r in readings
        ]
        with self._lock:  # API routes run in a thread pool; the pipeline is single-writer
            result, fresh = self.ingest(items, "http")
            try:
                self.derive(fresh)
            except Exception as e:  # stored and acknowledged; state is rebuilt on replay
                log.error("sensors.intake.derive_failed", error=repr(e))
        return result


def accept_batch(intake: Intake, readings: Sequence[Mapping[str, Any]]) -> BatchResult:
    """The REST route's entry: store a batch of readings durably and report what happened."""
    return intake.accept_batch(readings)


def _excerpt(payload: Any) -> str:
    if isinstance(payload, bytes):
        text = payload[:2000].decode("utf-8", "replace")
    elif isinstance(payload, str):
        text = payload[:2000]
    else:
        text = json.dumps(payload, default=str)[:2000]
    # A lone surrogate would make the rejects file (UTF-8) unwritable.
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class MqttIntake:
    """The MQTT door: a persistent session, QoS 1, manual acks sent after each durable batch.

    Messages are gathered for at most `flush_interval_s` (or `max_batch` messages), stored in
    one fsync'd frame, acknowledged in one write, then handed to the engine.
    """

    def __init__(
        self,
        intake: Intake,
        host: str,
        port: int,
        *,
        client_id: str = "chainlens-intake",
        flush_interval_s: float = 0.02,
        max_batch: int = 20_000,
        ack_log: Path | None = None,
        wall_clock: bool = False,
        reload: Callable[[], Registry] | None = None,
        reload_s: float = 30.0,
    ) -> None:
        self.intake = intake
        # The registry's source (Neo4j): reloaded before a batch every `reload_s`, and at
        # once (at most once a second) when a batch names a sensor the snapshot lacks, so
        # devices, limits and release orders registered through the API count without a
        # restart.
        self.reload = reload
        self.reload_s = reload_s
        self._loaded_at = time.monotonic()
        self.host, self.port = host, port
        self.flush_interval_s = flush_interval_s
        self.max_batch = max_batch
        self.wall_clock = wall_clock
        self.client = FastClient(client_id, clean_session=False, manual_ack=True)
        self.client.on_raw_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self._started = False
        self.reconnects = 0
        self._pending: list[tuple[int, bytes, bytes]] = []
        self._first_pending = 0.0
        self._stop = False
        self._ack_log = ack_log.open("a", encoding="utf-8") if ack_log else None
        self.acked = 0

    def _on_publish(self, mid: int, topic: bytes, payload: bytes) -> None:
        if not self._pending:
            self._first_pending = time.monotonic()
        self._pending.append((mid, topic, payload))

    def start(self) -> None:
        """Connect; subscribe and wait for the SUBACK only for a new session. A session the
        broker kept already has the subscription, and may have a backlog queued ahead of the
        SUBACK that `run` must store and acknowledge batch by batch, not gather in memory."""
        if connect(self.client, self.host, self.port):
            self.client.subscribe(SUBSCRIPTION, qos=1)
        else:
            subscribe(self.client, SUBSCRIPTION, qos=1)
        self._started = True

    def _on_connect(self, client: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        # After a reconnect to a broker that lost our session (restarted without persistence),
        # the subscription is gone with it: make it again.
        if self._started and not reason.is_failure:
            self.reconnects += 1
        if self._started and not reason.is_failure and not flags.session_present:
            log.warning("sensors.intake.session_lost", host=self.host, port=self.port)
            client.subscribe(SUBSCRIPTION, qos=1)

    def stop(self) -> None:
        self._stop = True

    def run(
        self, idle_exit_s: float | None = None, until: Callable[[], bool] | None = None
    ) -> None:
        """Serve until `stop()` (or a signal), until idle for `idle_exit_s`, or until
        `until()` holds."""
        last_activity = time.monotonic()
        timeout = max(self.flush_interval_s / 2, 0.001)
        while not self._stop and not (until is not None and until()):
            rc = self.client.loop(timeout)
            if rc != 0:
                self._reconnect()
                continue
            now = time.monotonic()
            if self._pending:
                last_activity = now
                if (
                    len(self._pending) >= self.max_batch
                    or now - self._first_pending >= self.flush_interval_s
                ):
                    self.flush()
            elif idle_exit_s is not None and now - last_activity >= idle_exit_s:
                break
            if self.wall_clock:
                self.intake.advance_clock(time.time_ns() // 1000)
                self.intake.flush_state()
        if self._pending:
            self.flush()

    def flush(self) -> None:
        """Store the pending batch, acknowledge it, then derive state from it."""
        pending, self._pending = self._pending, []
        items = [(sensor_of_raw(topic), payload) for _, topic, payload in pending]
        if self.reload is not None:
            self._refresh(items)
        _, fresh = self.intake.ingest(items, "mqtt")
        self.client.ack_many(mid for mid, _, _ in pending)
        self.acked += len(pending)
        if self._ack_log is not None:
            self._log_acks(pending)
        self.intake.derive(fresh)

    def _refresh(self, items: Sequence[tuple[str | None, Any]]) -> None:
        assert self.reload is not None
        age = time.monotonic() - self._loaded_at
        if age < 1.0:
            return
        known = self.intake.registry.sensors
        if age < self.reload_s and all(s is None or s in known for s, _ in items):
            return
        try:
            self.intake.set_registry(self.reload())
        except Exception as e:  # the graph is away: keep the snapshot we have
            log.warning("sensors.intake.registry_reload_failed", error=repr(e))
        self._loaded_at = time.monotonic()

    def _log_acks(self, pending: list[tuple[int, bytes, bytes]]) -> None:
        # Test aid: which readings were acknowledged, so a crash test can check each one.
        assert self._ack_log is not None
        lines = []
        for _, topic, payload in pending:
            try:
                seq = json.loads(payload).get("seq")
            except (ValueError, AttributeError):
                seq = None
            lines.append(f"{sensor_of_raw(topic)}\t{seq}\n")
        self._ack_log.write("".join(lines))
        self._ack_log.flush()

    def _reconnect(self) -> None:
        # Unstored messages are dropped here: the broker redelivers them on the new session.
        self._pending = []
        delay = 0.1
        while not self._stop:
            try:
                self.client.reconnect()
                return
            except OSError as e:
                log.warning("sensors.intake.reconnect", error=str(e), retry_in=delay)
                time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        # Send the last PUBACKs and read what the broker still sent before closing: a socket
        # closed with unread input is reset, and the broker may then drop our last acks
        # (harmless, they would be redelivered as duplicates, but wasteful).
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            self.client.loop(0.02)
        try:
            self.client.disconnect()
        finally:
            if self._ack_log is not None:
                self._ack_log.close()


cli = typer.Typer(add_completion=False, help="Run the MQTT telemetry intake.")


HookFactory = Callable[[Any, str], Sequence[OnValuation]]
"""Given the driver and database, the valuation hooks to register (the CLI binds finance's)."""
AlertHookFactory = Callable[[Any, str], Sequence[OnAlerts]]
"""Given the driver and database, the hooks run after alerts are written (the CLI binds the
post-loan rules)."""


def run_mqtt_intake(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: Path | None = None,
    client_id: str = "chainlens-intake",
    registry_file: Path | None = None,
    ack_log: Path | None = None,
    flush_ms: int | None = None,
    wall_clock: bool = False,
    idle_exit_s: float | None = None,
    hooks: HookFactory | None = None,
    alert_hooks: AlertHookFactory | None = None,
) -> tuple[int, int]:
    """Run the MQTT intake in the foreground until SIGTERM/SIGINT (or idle); returns
    (acknowledged, accepted). Without `registry_file` the registry comes from Neo4j and
    alerts, state and valuations go there, and `hooks` and `alert_hooks` are bound to that
    driver."""
    config = IntakeConfig.from_settings(settings)
    if data_dir is not None:
        config = IntakeConfig(
            data_dir=data_dir,
            max_future_s=config.max_future_s,
            dedup_horizon_s=config.dedup_horizon_s,
            replay_s=config.replay_s,
        )
    driver = None
    sink: Sink
    on_valuation: Sequence[OnValuation] = ()
    reload: Callable[[], Registry] | None = None
    if registry_file is not None:
        registry = Registry.load(registry_file)
        sink = MemorySink()
    else:
        from graph.driver import create_driver
        from sensors.registry import load_registry
        from sensors.sink import GraphSink

        driver = create_driver(settings)
        registry = load_registry(driver, settings.neo4j_database)
        reload = partial(load_registry, driver, settings.neo4j_database)
        sink = GraphSink(
            driver, settings.neo4j_database,
            alert_hooks(driver, settings.neo4j_database) if alert_hooks is not None else (),
        )  # fmt: skip
        if hooks is not None:
            on_valuation = hooks(driver, settings.neo4j_database)
    engine = CollateralEngine(registry, RuleConfig(), on_valuation=on_valuation)
    intake = Intake(registry, config, engine=engine, sink=sink)
    intake.open()
    door = MqttIntake(
        intake,
        host or settings.mqtt_host,
        port or settings.mqtt_port,
        client_id=client_id,
        flush_interval_s=(flush_ms if flush_ms is not None else settings.sensors_flush_ms) / 1000,
        max_batch=settings.sensors_max_batch,
        ack_log=ack_log,
        wall_clock=wall_clock,
        reload=reload,
        reload_s=settings.sensors_registry_refresh_s,
    )
    signal.signal(signal.SIGTERM, lambda *_: door.stop())
    signal.signal(signal.SIGINT, lambda *_: door.stop())
    door.start()
    print("ready", flush=True)
    try:
        door.run(idle_exit_s=idle_exit_s)
    finally:
        door.close()
        intake.close()
        if driver is not None:
            driver.close()
    return door.acked, intake.totals.accepted


@cli.command()
def main(
    host: Annotated[str | None, typer.Option(help="MQTT broker host")] = None,
    port: Annotated[int | None, typer.Option(help="MQTT broker port")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="raw reading store")] = None,
    client_id: Annotated[str, typer.Option(help="MQTT client id")] = "chainlens-intake",
    registry_file: Annotated[
        Path | None, typer.Option(help="registry JSON instead of the graph (no graph writes)")
    ] = None,
    ack_log: Annotated[Path | None, typer.Option(help="append acknowledged readings here")] = None,
    flush_ms: Annotated[int | None, typer.Option(help="longest wait to store a batch")] = None,
    wall_clock: Annotated[bool, typer.Option(help="evaluate rules on the wall clock too")] = False,
    idle_exit_s: Annotated[float | None, typer.Option(help="exit after this long idle")] = None,
) -> None:
    """Subscribe to `chainlens/v1/telemetry/+` and store, acknowledge and derive (no finance
    hook: `chainlens sensors intake` is the entry that wires margin calls)."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    acked, accepted = run_mqtt_intake(
        settings,
        host=host,
        port=port,
        data_dir=data_dir,
        client_id=client_id,
        registry_file=registry_file,
        ack_log=ack_log,
        flush_ms=flush_ms,
        wall_clock=wall_clock,
        idle_exit_s=idle_exit_s,
    )
    print(json.dumps({"acked": acked, "accepted": accepted}), flush=True)


if __name__ == "__main__":
    cli(prog_name="python -m sensors.intake")
    sys.exit(0)
