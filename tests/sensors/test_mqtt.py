"""The MQTT plumbing: topic scheme, and the buffered client against a real backlog."""

from __future__ import annotations

import time

import pytest

from sensors.broker import LocalBroker
from sensors.mqtt import SUBSCRIPTION, FastClient, connect, sensor_of, subscribe, topic_for


def test_topic_scheme_round_trips_and_refuses_other_topics() -> None:
    assert sensor_of(topic_for("TAG-1-007")) == "TAG-1-007"
    assert sensor_of("chainlens/v1/telemetry/a/b") is None
    assert sensor_of("chainlens/v1/telemetry/") is None
    assert sensor_of("other/v1/telemetry/x") is None


@pytest.mark.parametrize("raw", [False, True], ids=["on_message", "on_raw_publish"])
def test_a_backlog_bigger_than_one_read_burst_is_delivered_whole_and_acked_in_one_write(
    broker: LocalBroker, raw: bool
) -> None:
    n = 12_000  # several 256 KiB reads and several 4096-packet bursts
    session = f"backlog-test-{raw}"
    offline = FastClient(session, clean_session=False, manual_ack=True)
    connect(offline, broker.host, broker.port)
    subscribe(offline, SUBSCRIPTION)
    offline.disconnect()
    pub = FastClient("backlog-pub")
    connect(pub, broker.host, broker.port)
    for i in range(n):
        pub.publish(topic_for(f"S{i % 50}"), b'{"seq": %d}' % i, qos=1)
    while pub._out_messages:
        pub.loop(0.01)
    pub.disconnect()

    mids: list[int] = []
    payloads: list[bytes] = []
    sub = FastClient(session, clean_session=False, manual_ack=True)
    if raw:
        sub.on_raw_publish = lambda mid, topic, payload: (
            mids.append(mid),
            payloads.append(payload),
        )
    else:
        sub.on_message = lambda _c, _u, msg: (mids.append(msg.mid), payloads.append(msg.payload))
    connect(sub, broker.host, broker.port)
    subscribe(sub, SUBSCRIPTION)  # its SUBACK queues behind the backlog
    deadline = time.monotonic() + 60
    while len(mids) < n:
        assert time.monotonic() < deadline
        sub.loop(0.05)
    sub.ack_many(mids)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        sub.loop(0.02)
    sub.disconnect()

    # Acknowledged: a new connection of the session gets nothing redelivered.
    again: list[int] = []
    check = FastClient(session, clean_session=False, manual_ack=True)
    check.on_message = lambda _c, _u, msg: again.append(msg.mid)
    connect(check, broker.host, broker.port)
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        check.loop(0.05)
    check.disconnect()
    assert len(mids) == n and again == []
    assert sorted(int(p[8:-1]) for p in payloads) == list(range(n))
