"""MQTT plumbing: the topic scheme and a paho-mqtt 2.x client tuned for throughput.

Topic scheme (docs/sensors.md): `chainlens/v1/telemetry/{sensor_id}`, QoS 1, payload a JSON
object `{"ts", "kind", "value", "unit", "seq"}`. The intake subscribes to
`chainlens/v1/telemetry/+` with a persistent session (clean_session=False), so that the broker
keeps and redelivers every message the intake has not acknowledged, including across a crash.

Stock paho reads each packet with three `recv` calls and one `select`, builds an
`MQTTMessage` (with a lock and a topic matcher) per message, and writes each PUBACK with its
own `send`; at tens of thousands of messages a second that is the whole budget.
`FastClient` reads the socket in 256 KiB chunks, can hand PUBLISH packets straight to
`on_raw_publish(mid, topic, payload)` (other packets still go through paho's handlers), and
sends a batch of PUBACKs in one write. It overrides private methods of paho-mqtt (pinned at
2.2.0 in pyproject.toml; `tests/sensors/test_mqtt.py` guards them); the wire protocol is
unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
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


_PREFIX_BYTES = (TOPIC_ROOT + "/").encode()


def sensor_of_raw(topic: bytes) -> str | None:
    """`sensor_of` for a topic as received (UTF-8 bytes)."""
    if (
        not topic.startswith(_PREFIX_BYTES)
        or len(topic) <= _PREFIX_LEN
        or b"/" in topic[_PREFIX_LEN:]
    ):
        return None
    try:
        return topic[_PREFIX_LEN:].decode()
    except UnicodeDecodeError:
        return None


class FastClient(mqtt.Client):
    """A paho client with buffered reads and batched PUBACKs (see the module docstring)."""

    _rbuf: bytes = b""
    _rpos: int = 0

    def __init__(self, client_id: str, *, clean_session: bool = True, manual_ack: bool = False):
        self._raw = bytearray()
        self._raw_more = False
        self.on_raw_publish: Callable[[int, bytes, bytes], None] | None = None
        """When set, each PUBLISH is passed as `(mid, topic, payload)` (mid 0 for QoS 0)
        and `on_message` is not called; QoS 1 messages must be acknowledged (`ack_many`)."""
        super().__init__(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        self.max_inflight_messages_set(0)
        self.max_queued_messages_set(0)

    def reconnect(self) -> MQTTErrorCode:
        # Bytes buffered from the old connection belong to no packet of the new one.
        self._raw.clear()
        self._raw_more = False
        self._rbuf, self._rpos = b"", 0
        return super().reconnect()

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
        if self._rpos < len(self._rbuf) or self._raw_more:
            rc = self.loop_read()
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return rc
            timeout = 0.0
        return super().loop(timeout)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if self.on_raw_publish is not None:
            return self._raw_loop_read()
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

    def _raw_loop_read(self) -> MQTTErrorCode:
        """Parse packets straight from the socket buffer: PUBLISH goes to `on_raw_publish`
        without building an `MQTTMessage`; every other packet is handed to paho as if paho
        had read it (CONNACK, SUBACK, PINGRESP keep their usual handling)."""
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        buf = self._raw
        if not self._raw_more or len(buf) < _READ_CHUNK:
            try:
                data = mqtt.Client._sock_recv(self, _READ_CHUNK)
            except BlockingIOError:
                data = None
            except OSError:
                return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
            if data == b"":
                return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
            if data:
                buf += data
                with self._msgtime_mutex:
                    self._last_bytes_received = time.monotonic()
        handler = self.on_raw_publish
        assert handler is not None
        size = len(buf)
        pos = 0
        budget = _BURST
        self._raw_more = False
        while budget:
            if pos + 2 > size:
                break
            first = buf[pos]
            # Remaining length: 1 to 4 bytes, 7 bits each.
            length, mult, i = 0, 1, pos + 1
            while True:
                if i >= size:
                    length = -1
                    break
                byte = buf[i]
                length += (byte & 0x7F) * mult
                i += 1
                if not byte & 0x80:
                    break
                mult *= 128
                if mult > 128**3:
                    return self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_PROTOCOL)
            if length < 0 or i + length > size:
                break
            end = i + length
            if first >> 4 == 3:  # PUBLISH
                qos = (first >> 1) & 3
                tlen = (buf[i] << 8) | buf[i + 1]
                topic = bytes(buf[i + 2 : i + 2 + tlen])
                j = i + 2 + tlen
                mid = 0
                if qos:
                    mid = (buf[j] << 8) | buf[j + 1]
                    j += 2
                handler(mid, topic, bytes(buf[j:end]))
            else:
                self._in_packet = {
                    "command": first,
                    "have_remaining": 1,
                    "remaining_count": [],
                    "remaining_mult": 1,
                    "remaining_length": length,
                    "packet": bytearray(buf[i:end]),
                    "to_process": 0,
                    "pos": 0,
                }
                rc = self._packet_handle()
                self._in_packet = {
                    "command": 0,
                    "have_remaining": 0,
                    "remaining_count": [],
                    "remaining_mult": 1,
                    "remaining_length": 0,
                    "packet": bytearray(b""),
                    "to_process": 0,
                    "pos": 0,
                }
                if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                    del buf[:end]
                    return self._loop_rc_handle(rc)
            pos = end
            budget -= 1
        else:
            self._raw_more = True  # budget spent with packets left: `loop` comes back at once
        del buf[:pos]
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: Iterable[int]) -> None:
        """Acknowledge QoS 1 messages in one write (PUBACK is 4 bytes; MQTT has no batch ack)."""
        data = b"".join(bytes((_PUBACK, 2, (mid >> 8) & 0xFF, mid & 0xFF)) for mid in mids if mid)
        if data:
            self._packet_queue(_PUBACK, data, 0, 0)


def connect(client: mqtt.Client, host: str, port: int, keepalive: int = 30) -> bool:
    """Connect and wait for the CONNACK (so that a subscription made next is not lost);
    returns whether the broker still held a session for this client id."""
    connected: list[tuple[Any, bool]] = []

    def on_connect(_c: Any, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        connected.append((reason, bool(getattr(flags, "session_present", False))))

    previous = client.on_connect
    client.on_connect = on_connect
    client.connect(host, port, keepalive=keepalive)
    deadline = time.monotonic() + 10.0
    while not connected and time.monotonic() < deadline:
        client.loop(0.05)
    client.on_connect = previous
    if not connected or getattr(connected[0][0], "is_failure", False):
        raise ConnectionError(f"MQTT broker {host}:{port} refused or did not answer: {connected}")
    return connected[0][1]


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
