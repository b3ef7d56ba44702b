"""Telemetry throughput: MQTT -> validated, deduplicated, fsync'd store -> derived state.

Method. N readings from the simulator (herds with ear tags, scales, probes, trackers) are
published at QoS 1 into a persistent session while its subscriber is offline, so the broker
holds a backlog; then the subscriber connects and drains it, and we time connect-to-last.
Draining a backlog measures what the consumer sustains without the publisher competing for
the same two cores. Each round drains the same messages twice:

- baseline: the broker's own throughput to a plain subscriber: a paho client (the same
  buffered `FastClient` transport the intake uses) that acknowledges each message and does
  nothing else; and, when `mosquitto_sub` is installed, the broker's C client to /dev/null;
- ours: `MqttIntake`: parse, validate against the registry, deduplicate, append to the WAL
  and fsync, batch-acknowledge, then update the collateral engine (state, rules, valuation).

Prints medians over rounds and one JSON line; "ratio" = ours / the broker's throughput, taken
as the faster of the two plain subscribers (the C client when installed: the stricter test).

    python bench/telemetry.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sensors.broker import LocalBroker
from sensors.intake import Intake, IntakeConfig, MqttIntake
from sensors.mqtt import SUBSCRIPTION, FastClient, connect, subscribe, topic_for
from sensors.simulator import build_scenario
from sensors.store import load_table


def preload(broker: LocalBroker, client_id: str, messages: list[tuple[str, bytes]]) -> None:
    """Create the persistent session, then publish the backlog into it while it is offline."""
    sub = FastClient(client_id, clean_session=False)
    connect(sub, broker.host, broker.port)
    subscribe(sub, SUBSCRIPTION, qos=1)
    sub.disconnect()
    pub = FastClient(f"{client_id}-pub")
    connect(pub, broker.host, broker.port)
    for i, (topic, payload) in enumerate(messages):
        pub.publish(topic, payload, qos=1)
        if i % 1000 == 0:
            pub.loop(0)
    while pub._out_messages:
        pub.loop(0.01)
    pub.disconnect()


def drain_plain(broker: LocalBroker, client_id: str, n: int) -> float:
    got = [0]

    def on_message(*_: Any) -> None:
        got[0] += 1

    sub = FastClient(client_id, clean_session=False)
    sub.on_message = on_message
    start = time.perf_counter()
    sub.connect(broker.host, broker.port)
    while got[0] < n:
        sub.loop(0.01)
    elapsed = time.perf_counter() - start
    sub.disconnect()
    return n / elapsed


def drain_mosquitto_sub(broker: LocalBroker, client_id: str, n: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            "mosquitto_sub",
            "-h",
            broker.host,
            "-p",
            str(broker.port),
            "-c",
            "-i",
            client_id,
            "-q",
            "1",
            "-t",
            SUBSCRIPTION,
            "-C",
            str(n),
        ],
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return n / (time.perf_counter() - start)


def drain_intake(
    broker: LocalBroker, client_id: str, n: int, scenario: Any, data_dir: Path
) -> tuple[float, float, int]:
    intake = Intake(scenario.registry, IntakeConfig(data_dir))
    intake.open()
    door = MqttIntake(intake, broker.host, broker.port, client_id=client_id)
    start = time.perf_counter()
    door.start()
    door.run(until=lambda: intake.totals.accepted + intake.totals.duplicates >= n)
    elapsed = time.perf_counter() - start
    door.close()
    t0 = time.perf_counter()
    intake.close()  # final compaction to Parquet, outside the timed drain
    compaction = time.perf_counter() - t0
    stored = load_table(data_dir).num_rows
    return n / elapsed, compaction, stored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run (under a minute)")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    herds, days = (3, 1) if args.quick else (12, 2)
    rounds = args.rounds or 3

    scenario = build_scenario(seed=1, days=days, herds=herds, head=50)
    messages = [(topic_for(s), p) for s, p in scenario.payloads()]
    n = len(messages)
    has_c_client = shutil.which("mosquitto_sub") is not None
    print(f"{n} readings ({herds} herds, {days} days), {rounds} rounds")
    if not has_c_client:
        print(
            "note: mosquitto_sub not installed (apt-get install mosquitto-clients, or "
            "scripts/system-deps.sh): the baseline is the plain paho subscriber only, "
            "a weaker comparison than the broker's C client"
        )

    plain: list[float] = []
    c_client: list[float] = []
    ours: list[float] = []
    compactions: list[float] = []
    work = Path(tempfile.mkdtemp(prefix="bench-telemetry-"))
    try:
        with LocalBroker(work / "broker") as broker:
            for r in range(rounds):
                preload(broker, f"plain-{r}", messages)
                plain.append(drain_plain(broker, f"plain-{r}", n))
                if has_c_client:
                    preload(broker, f"csub-{r}", messages)
                    c_client.append(drain_mosquitto_sub(broker, f"csub-{r}", n))
                preload(broker, f"ours-{r}", messages)
                rate, compaction, stored = drain_intake(
                    broker, f"ours-{r}", n, scenario, work / f"store-{r}"
                )
                assert stored == n, f"stored {stored} of {n}"
                ours.append(rate)
                compactions.append(compaction)
                print(
                    f"round {r + 1}: plain paho {plain[-1]:,.0f}/s"
                    + (f"  mosquitto_sub {c_client[-1]:,.0f}/s" if c_client else "")
                    + f"  intake {rate:,.0f}/s (stored {stored}, compaction {compaction:.2f}s)"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)

    med_plain = statistics.median(plain)
    med_ours = statistics.median(ours)
    med_c = statistics.median(c_client) if c_client else None
    # The broker's throughput is what its fastest plain subscriber gets out of it.
    broker_rate = max(med_plain, med_c or 0.0)
    print(f"median plain paho subscriber  {med_plain:,.0f} readings/s")
    if med_c is not None:
        print(f"median mosquitto_sub (C)      {med_c:,.0f} readings/s")
    print(f"median intake (store+derive)  {med_ours:,.0f} readings/s")
    print(f"ratio ours / plain paho       {med_ours / med_plain:.2f}")
    if med_c is not None:
        print(f"ratio ours / mosquitto_sub    {med_ours / med_c:.2f}")
    print(f"ratio ours / broker (best)    {med_ours / broker_rate:.2f}")
    print(
        json.dumps(
            {
                "bench": "telemetry",
                "readings": n,
                "rounds": rounds,
                "plain_paho_per_s": round(med_plain),
                "mosquitto_sub_per_s": round(med_c) if med_c is not None else None,
                "broker_per_s": round(broker_rate),
                "intake_per_s": round(med_ours),
                "compaction_s": round(statistics.median(compactions), 3),
                "ratio_vs_plain_paho": round(med_ours / med_plain, 3),
                "ratio": round(med_ours / broker_rate, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
