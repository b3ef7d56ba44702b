"""How often each rule fires, per rule set version: counted in this process when an
application is decided through a rule set, exposed to Prometheus by `RuleHitsCollector`
(the API registers it on its registry, so `/metrics` shows it)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from decisions.engine import Evaluation, Hit

_HITS: Counter[tuple[str, str, str]] = Counter()
_VERDICTS: Counter[tuple[str, str]] = Counter()
_LOCK = threading.Lock()


def record(rule_set: str, evaluation: Evaluation) -> None:
    """Count one decision: its verdict and every rule that fired."""
    with _LOCK:
        _VERDICTS[(rule_set, evaluation.outcome.verdict.value)] += 1
        for hit in evaluation.hits:
            _HITS[(rule_set, hit.rule, hit.outcome)] += 1


def hits() -> dict[tuple[str, str, str], int]:
    with _LOCK:
        return dict(_HITS)


class RuleHitsCollector(Collector):
    """``chainlens_rule_hits_total{rule_set, rule, outcome}`` and
    ``chainlens_rule_decisions_total{rule_set, verdict}``."""

    def collect(self) -> Iterator[CounterMetricFamily]:
        with _LOCK:
            h, v = dict(_HITS), dict(_VERDICTS)
        fired = CounterMetricFamily(
            "chainlens_rule_hits", "rules fired in automatic decisions",
            labels=["rule_set", "rule", "outcome"],
        )  # fmt: skip
        for (rs, rule, outcome), n in sorted(h.items()):
            fired.add_metric([rs, rule, outcome], n)
        yield fired
        decided = CounterMetricFamily(
            "chainlens_rule_decisions", "automatic decisions made through a rule set",
            labels=["rule_set", "verdict"],
        )  # fmt: skip
        for (rs, verdict), n in sorted(v.items()):
            decided.add_metric([rs, verdict], n)
        yield decided


def record_hits(rule_set: str, fired: Iterable[Hit]) -> None:
    """Count the rows that fired on one case of a stage without a verdict (post-loan)."""
    with _LOCK:
        for hit in fired:
            _HITS[(rule_set, hit.rule, hit.outcome)] += 1
