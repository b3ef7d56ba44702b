"""MQTT plumbing: the topic scheme and a paho-mqtt 2.x client tuned for throughput.

Topic scheme (docs/sensors.md): `chainlens/v1/telemetry/{sensor_id}`, QoS 1, payload a JSON
object `{"ts", "kind", "value", "unit", "seq"}`. The intake subscribes to
`chainlens/v1/telemetry/+` with a persistent session (clean_session=False), so that the broker
keeps and redelivers every message the intake has not acknowledged, including across a crash.

Stock paho reads each packet with three `recv` calls and one `select`, and writes each PUBACK
with its own `send`; at tens of thousands of messages a second those system calls are the
cost. `FastClient` reads the socket in large chunks and sends a batch of PUBACKs in one write.
It overrides two private methods of paho-mqtt (pinned at 2.2.0 in pyproject.toml); the wire
protocol is unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

TOPIC_ROOT = "chainlens/v1/telemetry"
SUBSCRIPTION = f"{TOPIC_ROOT}/+"
_PREFIX_LEN = len(TOPIC_ROOT) + 1
_PUBACK = 0x40
_READ_CHUNK = 256 * 1024
_BURST = 4096  # packets per loop_read call


def topic_for(sensor_id: str) -> str:
    return f"{TOPIC_ROOT}/{sensor_id}"


def sensor_of(topic: str) -> str | None:
    """The sensor id a topic names, or None for a topic outside the scheme."""
    if not topic.startswith(TOPIC_ROOT) or len(topic) <= _PREFIX_LEN:
        return None
    rest = topic[_PREFIX_LEN:]
    return None if "/" in rest else rest


class FastClient(mqtt.Client):
    """A paho client with buffered reads and batched PUBACKs (see the module docstring)."""

    _rbuf: bytes = b""
    _rpos: int = 0

    def __init__(self, client_id: str, *, clean_session: bool = True, manual_ack: bool = False):
        super().__init__(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        self.max_inflight_messages_set(0)
        self.max_queued_messages_set(0)

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(_READ_CHUNK)
            if not data:
                return b""
            self._rbuf, self._rpos = data, 0
        out = self._rbuf[self._rpos : self._rpos + bufsize]
        self._rpos += len(out)
        return out

    def loop(self, timeout: float = 1.0) -> MQTTErrorCode:
        # Packets already in our buffer never wake select(): serve them without blocking.
        if self._rpos < len(self._rbuf):
            rc = self.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
            timeout = 0.0
        return super().loop(timeout)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        # Drain what is already buffered, but only a bounded burst, so that the caller gets
        # to store and acknowledge in between; `loop` serves the rest without waiting.
        budget = _BURST
        while rc == MQTTErrorCode.MQTT_ERR_SUCCESS and self._rpos < len(self._rbuf) and budget:
            budget -= 1
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc > 0:
                return self._loop_rc_handle(rc)
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                return MQTTErrorCode.MQTT_ERR_SUCCESS
        return rc

    def ack_many(self, mids: Iterable[int]) -> None:
        """Acknowledge QoS 1 messages in one write (PUBACK is 4 bytes; MQTT has no batch ack)."""
        data = b"".join(bytes((_PUBACK, 2, (mid >> 8) & 0xFF, mid & 0xFF)) for mid in mids)
        if data:
            self._packet_queue(_PUBACK, data, 0, 0)


def connect(client: mqtt.Client, host: str, port: int, keepalive: int = 30) -> None:
    """Connect and wait for the CONNACK (so that a subscription made next is not lost)."""
    connected: list[Any] = []

    def on_connect(_c: Any, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        connected.append(reason)

    previous = client.on_connect
    client.on_connect = on_connect
    client.connect(host, port, keepalive=keepalive)
    deadline = time.monotonic() + 10.0
    while not connected and time.monotonic() < deadline:
        client.loop(0.05)
    client.on_connect = previous
    if not connected or getattr(connected[0], "is_failure", False):
        raise ConnectionError(f"MQTT broker {host}:{port} refused or did not answer: {connected}")


def subscribe(client: mqtt.Client, topic: str, qos: int = 1, timeout_s: float = 60.0) -> None:
    """Subscribe and wait for the SUBACK."""
    done: list[int] = []

    def on_subscribe(_c: Any, _u: Any, mid: int, _r: Any, _p: Any) -> None:
        done.append(mid)

    previous = client.on_subscribe
    client.on_subscribe = on_subscribe
    _, mid = client.subscribe(topic, qos)
    # A persistent session may have a backlog queued ahead of the SUBACK: wait by the clock.
    deadline = time.monotonic() + timeout_s
    while mid not in done and time.monotonic() < deadline:
        client.loop(0.05)
    client.on_subscribe = previous
    if mid not in done:
        raise ConnectionError(f"no SUBACK for {topic}")
