"""Duplicates by (sensor, seq) or, without seq, (sensor, ts); a bounded horizon."""

from __future__ import annotations

from sensors.dedup import Deduplicator, Verdict
from sensors.model import Reading

H = 3_600_000_000  # one hour in microseconds


def r(sensor: str, ts_s: int, seq: int | None) -> Reading:
    return Reading(sensor, ts_s * 1_000_000, "weight", 1.0, None, "kg", seq)


def test_same_seq_is_a_duplicate_even_with_another_timestamp() -> None:
    d = Deduplicator(H)
    assert d.check(r("S1", 100, 1)) is Verdict.NEW
    assert d.check(r("S1", 101, 1)) is Verdict.DUPLICATE
    assert d.check(r("S2", 100, 1)) is Verdict.NEW  # another sensor


def test_without_seq_the_timestamp_is_the_key() -> None:
    d = Deduplicator(H)
    assert d.check(r("S1", 100, None)) is Verdict.NEW
    assert d.check(r("S1", 100, None)) is Verdict.DUPLICATE
    assert d.check(r("S1", 101, None)) is Verdict.NEW


def test_out_of_order_within_the_horizon_is_taken_once() -> None:
    d = Deduplicator(H)
    for s in (10, 12, 11):
        assert d.check(r("S1", 1000 + s, s)) is Verdict.NEW
    assert d.check(r("S1", 1011, 11)) is Verdict.DUPLICATE


def test_keys_survive_generation_rotation_for_at_least_the_horizon() -> None:
    d = Deduplicator(H)
    d.check(r("S1", 0, 1))
    d.check(r("S1", 3_000, 2))
    d.check(r("S1", 3_700, 3))  # rotates: the first generation becomes the previous one
    assert d.check(r("S1", 3_000, 2)) is Verdict.DUPLICATE
    assert d.check(r("S1", 0, 1)) is Verdict.TOO_LATE  # beyond the horizon: refused, not stored


def test_seed_restores_what_the_store_holds() -> None:
    d = Deduplicator(H)
    d.seed([("S1", 5_000_000, 7), ("S1", 6_000_000, None)])
    assert d.check(r("S1", 5, 7)) is Verdict.DUPLICATE
    assert d.check(r("S1", 6, None)) is Verdict.DUPLICATE
    assert d.check(r("S1", 7, 8)) is Verdict.NEW


def test_forget_lets_a_failed_write_be_retried() -> None:
    d = Deduplicator(H)
    reading = r("S1", 1, 1)
    d.check(reading)
    d.forget(reading)
    assert d.check(reading) is Verdict.NEW
