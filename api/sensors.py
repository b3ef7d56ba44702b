"""The sensors side of one API process: its HTTP telemetry intake and the alert fan-out.

`SensorsRuntime` lives on `app.state.sensors` (made in the lifespan, closed at shutdown):

- `accept(readings)`: the REST batch door. One `Intake(writer="http-<pid>")` per process,
  opened on the first batch (opening replays the store), with the graph as sink and
  finance's `on_valuation` as the valuation hook, so a falling collateral value raises a
  margin call. Its engine evaluates only the assets its clients report on (the MQTT intake
  owns the rest). The device registry is reloaded every `sensors_registry_refresh_s`, at
  once when a batch names a sensor the snapshot does not know, and before the next batch
  after a collateral operation (`api/graphql/collateral.py`) in this process.
- `hub`: one poller of the graph per process for the `alertRaised` subscription, however
  many clients subscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from neo4j import Driver

from chainlens.logs import get_logger
from chainlens.settings import Settings
from sensors.engine import CollateralEngine, RuleConfig
from sensors.intake import Intake, IntakeConfig, accept_batch
from sensors.model import AlertRecord, BatchResult
from sensors.registry import load_registry
from sensors.service import watch_alerts
from sensors.sink import GraphSink, bind_alert_hook
from sensors.valuation import bind_hook

log = get_logger(__name__)


class AlertHub:
    """Fans the alerts of one graph poller out to every subscriber's queue. The poller runs
    while someone listens and stops with the last subscriber."""

    def __init__(self, driver: Driver, database: str, poll_s: float) -> None:
        self.driver, self.database, self.poll_s = driver, database, poll_s
        self._queues: set[asyncio.Queue[AlertRecord]] = set()
        self._task: asyncio.Task[None] | None = None

    async def _poll(self) -> None:
        while True:
            try:
                # After a failure it starts again from now: alerts created while the graph
                # was unreachable are not pushed (a client pages `alerts` to catch up).
                async for alert in watch_alerts(self.driver, self.database, poll_s=self.poll_s):
                    for queue in list(self._queues):
                        queue.put_nowait(alert)
            except asyncio.CancelledError:
                raise
            except Exception as e:  # the graph went away: keep the subscribers, try again
                log.warning("sensors.alert_hub.poll_failed", error=repr(e))
                await asyncio.sleep(max(self.poll_s, 1.0))

    async def subscribe(self) -> AsyncIterator[AlertRecord]:
        """Alerts created from now on, oldest first."""
        queue: asyncio.Queue[AlertRecord] = asyncio.Queue(maxsize=0)
        self._queues.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll())
            # The poller's cursor starts at its first poll: wait for it so that nothing
            # created after this subscription began is missed.
            await asyncio.sleep(0)
        try:
            while True:
                yield await queue.get()
        finally:
            self._queues.discard(queue)
            if not self._queues and self._task is not None:
                self._task.cancel()
                self._task = None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class SensorsRuntime:
    """What the API keeps for sensors between requests (see the module docstring)."""

    def __init__(self, settings: Settings, driver: Driver) -> None:
        self.settings = settings
        self.driver = driver
        self.hub = AlertHub(driver, settings.neo4j_database, settings.sensors_alert_poll_s)
        self._intake: Intake | None = None
        self._loaded_at = 0.0
        self._lock = threading.Lock()

    def _open(self) -> Intake:
        database = self.settings.neo4j_database
        registry = load_registry(self.driver, database)
        from decisions.postloan import on_collateral_event  # the API may import every domain
        from finance.collateral import on_valuation

        engine = CollateralEngine(
            registry,
            RuleConfig(),
            on_valuation=[bind_hook(on_valuation, self.driver, database)],
            only_fed_assets=True,
        )
        config = IntakeConfig.from_settings(self.settings, writer=f"http-{os.getpid()}")
        sink = GraphSink(
            self.driver, database, [bind_alert_hook(on_collateral_event, self.driver, database)]
        )
        intake = Intake(registry, config, engine=engine, sink=sink)
        intake.open()
        self._loaded_at = time.monotonic()
        log.info("sensors.http_intake.opened", writer=config.writer, sensors=len(registry.sensors))
        return intake

    def _refresh(self, intake: Intake, readings: Sequence[Mapping[str, Any]]) -> None:
        age = time.monotonic() - self._loaded_at
        known = intake.registry.sensors
        unknown = any(
            isinstance(r, Mapping)
            and isinstance(sid := r.get("sensor_id"), str)
            and sid not in known
            for r in readings
        )
        if age >= self.settings.sensors_registry_refresh_s or (unknown and age >= 1.0):
            intake.set_registry(load_registry(self.driver, self.settings.neo4j_database))
            self._loaded_at = time.monotonic()

    def registry_changed(self) -> None:
        """The graph's registry changed (an operator registered collateral, a sensor or a
        release order through this process): the next batch reloads it first."""
        self._loaded_at = float("-inf")

    def accept(self, readings: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Store a batch durably and derive from it (blocking: run it in the thread pool)."""
        with self._lock:
            if self._intake is None:
                self._intake = self._open()
            else:
                self._refresh(self._intake, readings)
            result = accept_batch(self._intake, readings)
            # State goes to the graph at most every state_flush_s; a quiet client would
            # otherwise leave the last batch's state unwritten until the next one.
            self._intake.flush_state(force=True)
            return result

    def close(self) -> None:
        with self._lock:
            if self._intake is not None:
                self._intake.close()
                self._intake = None
