"""Admission (准入): whether an enterprise may be a borrower at all, decided before a credit
line is granted to it.

The rule set ``admission`` in force (shipped as `decisions/rulesets/admission.json` until a
version is published; the same life cycle as approval) runs on the enterprise's own
indicators (`decisions.indicators.ADMISSION_NAMES`: status, scores, tier and chain, circle,
group, receivables, and the point-in-time alerts, arrears and documents), with no product,
amount or collateral. Its rows say ``decline`` (no line may be granted), ``refer`` (a second
admin must approve: the line can be proposed, not granted directly) or ``note``. Every fired
row counts in ``chainlens_rule_hits_total``.

`check_grant` is what `grantCreditLine`, `proposeCreditLine` and `chainlens finance line
grant` run before `finance.administration`; finance does not import decisions.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver

from decisions import lifecycle, monitoring
from decisions.errors import AdmissionRefused
from decisions.indicators import ADMISSION_NAMES, point_in_time
from finance import administration
from finance.credit_lines import LineSpec
from finance.policy import EnterpriseFacts, read_facts
from graph.model import DEFAULT_FUNDER
from graph.queries import lists as ql

ADMISSION = "admission"
ADMIT, REFER, DECLINE = "admit", "refer", "decline"
_FACT_NAMES = frozenset(f.name for f in fields(EnterpriseFacts))


@dataclass(frozen=True)
class Admission:
    enterprise_id: str
    rule_set: str  # the version that decided, e.g. rules:admission@shipped
    verdict: str  # admit, refer or decline
    reasons: tuple[str, ...]  # declines first, then referrals, then notes
    rules: tuple[str, ...]  # the rows that fired
    indicators: dict[str, Any]


def indicators(
    driver: Driver, database: str, enterprise_id: str, funder: str = DEFAULT_FUNDER,
    at: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The admission catalogue's values for an enterprise, read now (point in time at
    ``at`` where the records have times)."""
    facts = read_facts(driver, database, enterprise_id, funder=funder)
    point = point_in_time(driver, database, enterprise_id, (), funder, at)
    values = {n: getattr(facts, n) for n in ADMISSION_NAMES if n in _FACT_NAMES}
    values["guarantee_circle"] = list(facts.guarantee_circle)
    values["in_guarantee_circle"] = facts.in_guarantee_circle
    values.update({n: point[n] for n in ADMISSION_NAMES if n in point})
    return {n: values[n] for n in ADMISSION_NAMES}


def assess(
    driver: Driver, database: str, enterprise_id: str, funder: str = DEFAULT_FUNDER,
    at: datetime | None = None, record: bool = True,
) -> Admission:  # fmt: skip
    """The admission rule set in force at ``at`` (now) on the enterprise's indicators."""
    at = at or datetime.now(UTC)
    rs = lifecycle.in_force(driver, database, ADMISSION, at)
    values = indicators(driver, database, enterprise_id, funder, at)
    hits = rs.fire(values)
    if record:
        monitoring.record_hits(rs.label, hits)
    said = {o: [r for h in hits if h.outcome == o for r in h.reasons]
            for o in ("decline", "refer", "note")}  # fmt: skip
    verdict = DECLINE if said["decline"] else REFER if said["refer"] else ADMIT
    return Admission(
        enterprise_id, rs.label, verdict, tuple(said["decline"] + said["refer"] + said["note"]),
        tuple(h.rule for h in hits), values,
    )  # fmt: skip


def check_grant(
    driver: Driver, database: str, spec: LineSpec, *, proposed: bool = False,
    four_eyes_minor: int | None = None,
) -> Admission | None:  # fmt: skip
    """Admission before a line is granted to ``spec.enterprise_id``: a decline refuses it, a
    referral refuses a direct grant (``proposed``: a proposal for a second admin passes).
    The grant's own checks come first — its terms, and a direct grant above
    ``four_eyes_minor`` — so that they are said as such, not as an admission. A sub-limit
    (a line with a parent) carves a line already granted and is not assessed; nor is a line
    that exists already (a retry)."""
    if not proposed:
        administration.one_pair_of_eyes(spec.limit_minor, four_eyes_minor,
                                        f"a {spec.kind.value} line")  # fmt: skip
    administration.check_grant(driver, database, spec)
    if spec.parent_id is not None or ql.credit_lines_by_id(driver, database, [spec.id]):
        return None
    a = assess(driver, database, spec.enterprise_id, spec.funder_id)
    if a.verdict == DECLINE or (a.verdict == REFER and not proposed):
        how = "declines" if a.verdict == DECLINE else "refers (propose the line for a second admin)"
        raise AdmissionRefused(
            f"{a.rule_set} {how} {spec.enterprise_id}: {'; '.join(a.reasons)}"
        )
    return a
