"""Cypher for rule sets (package `decisions`): versions of a JSON Decision Model with their
life cycle, and the recorded automatic decisions a draft is simulated on.

A version is a `RuleSet` node keyed `<name>@<version>`; its content never changes. The
version in force at a time is the published one with the latest effective time not after
it, unless it was retired by then.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import (
    FINANCING_OUTSTANDING,
    AlertStatus,
    DocumentOutcome,
    EnterpriseStatus,
    FinancingOrigin,
    FinancingStatus,
    InterestStatus,
    Label,
    Rel,
    RiskClass,
    RuleSetStatus,
    values,
)
from graph.queries.finance import collateral_node
from graph.queries.versions import Versions

_R, _APP, _DEC = Label.RULE_SET, Label.APPLICATION, Label.DECISION
Row = dict[str, Any]

# A version is keyed `<name>@<version>`; the life-cycle statements are those of every
# versioned definition (`graph.queries.versions`).
_VERSIONS = Versions(_R, "name", "rule_set")

AUTOMATIC_DECISIONS = f"""
MATCH (d:{_DEC} {{kind: 'automatic'}})-[:{Rel.ABOUT}]->(a:{_APP})
WHERE $since IS NULL OR d.decided_at >= $since
RETURN a.id AS application_id, a.enterprise_id AS enterprise_id, a.product_id AS product_id,
       coalesce(d.product_version, a.product_version) AS product_version, d.verdict AS verdict,
       d.amount_minor AS amount_minor, d.reasons AS reasons,
       d.policy_version AS policy_version, d.decided_at AS decided_at, d.inputs AS inputs
ORDER BY d.decided_at DESC LIMIT $limit
"""


def create_draft(tx: ManagedTransaction, name: str, props: Row) -> Row:
    return _VERSIONS.create_draft(tx, name, props)


def get(driver: Driver, database: str, id: str) -> Row | None:
    return _VERSIONS.get(driver, database, id)


def lock(tx: ManagedTransaction, id: str) -> Row | None:
    return _VERSIONS.lock(tx, id)


def update(tx: ManagedTransaction, id: str, props: Row) -> Row:
    return _VERSIONS.update(tx, id, props)


def list_rule_sets(driver: Driver, database: str, name: str | None = None) -> list[Row]:
    return _VERSIONS.list_versions(driver, database, name)


def in_force(driver: Driver, database: str, name: str, at: datetime) -> Row | None:
    return _VERSIONS.in_force(driver, database, name, at)


def automatic_decisions(
    driver: Driver, database: str, limit: int, since: datetime | None = None
) -> list[Row]:
    """The latest automatic decisions on applications, newest first, with their inputs."""
    records, _, _ = driver.execute_query(
        AUTOMATIC_DECISIONS, limit=limit, since=since, database_=database,
        routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]


__all__ = ["RuleSetStatus"]


# Post-loan early warning: the originated financings with money out, and the standing of
# the enterprises their rules read (status, how many of their own financings are overdue).
POSTLOAN_FINANCINGS = f"""
MATCH (f:{Label.FINANCING})-[:{Rel.BORROWER}]->(e:{Label.ENTERPRISE})
WHERE f.origin = '{FinancingOrigin.ORIGINATED}' AND f.status IN $outstanding
  AND ($ids IS NULL OR f.id IN $ids)
RETURN f.id AS financing_id, e.id AS borrower_id, f.product_kind AS product_kind,
       coalesce(f.dpd, 0) AS dpd, coalesce(f.outstanding_minor, 0) AS outstanding_minor,
       coalesce(f.risk_class, '{RiskClass.NORMAL}') AS risk_class, f.maturity_on AS maturity_on
ORDER BY financing_id
"""

STANDING = f"""
UNWIND $ids AS id
MATCH (e:{Label.ENTERPRISE} {{id: id}})
OPTIONAL MATCH (f:{Label.FINANCING} {{status: '{FinancingStatus.OVERDUE}'}})-[:{Rel.BORROWER}]->(e)
RETURN id, coalesce(e.status, '{EnterpriseStatus.ACTIVE}') AS status, count(f) AS overdue
"""


def postloan_financings(driver: Driver, database: str, ids: list[str] | None = None) -> list[Row]:
    """The originated financings with money out (only ``ids`` among them, when given)."""
    records, _, _ = driver.execute_query(
        POSTLOAN_FINANCINGS, outstanding=values(FINANCING_OUTSTANDING), ids=ids,
        database_=database, routing_=RoutingControl.READ,
    )  # fmt: skip
    return [r.data() for r in records]


# The financings an event about collateral touches: those it is pledged or assigned to, and
# those of the enterprise that owns it (a sensor alert is about the owner too).
FINANCINGS_OF_COLLATERAL = f"""
UNWIND $ids AS cid
{collateral_node("cid")}
CALL (c) {{
  MATCH (c)-[:{Rel.PLEDGED_TO}|{Rel.ASSIGNED_TO}]->(f:{Label.FINANCING})
  RETURN f
  UNION
  MATCH (f:{Label.FINANCING})-[:{Rel.BORROWER}]->(:{Label.ENTERPRISE})-[:{Rel.OWNS}]->(c)
  RETURN f
}}
WITH DISTINCT f
WHERE f.origin = '{FinancingOrigin.ORIGINATED}' AND f.status IN $outstanding
RETURN f.id AS id ORDER BY id
"""


def financings_of_collateral(driver: Driver, database: str, collateral_ids: list[str]) -> list[str]:
    """The originated financings with money out that ``collateral_ids`` secure, or whose
    borrower owns one of them."""
    rows = _read(
        driver, database, FINANCINGS_OF_COLLATERAL, ids=collateral_ids,
        outstanding=values(FINANCING_OUTSTANDING),
    )  # fmt: skip
    return [str(r["id"]) for r in rows]


def standing(driver: Driver, database: str, ids: list[str]) -> dict[str, Row]:
    """Each enterprise's status and its overdue financings, by id."""
    records, _, _ = driver.execute_query(
        STANDING, ids=ids, database_=database, routing_=RoutingControl.READ
    )
    return {r["id"]: r.data() for r in records}


# Champion/challenger (issue 26): the draft run beside the version in force on a share of
# live applications, and what the decisions recorded of it.
CHALLENGER_OF = f"""
MATCH (r:{_R} {{name: $name, status: $status}})
RETURN r {{.*}} AS rule_set ORDER BY r.version DESC LIMIT 1
"""

CHALLENGE_COUNTS = f"""
MATCH (d:{_DEC} {{kind: 'automatic'}})
WHERE d.challenger_version = $label
RETURN d.arm AS arm, d.policy_version AS champion, d.verdict AS verdict,
       d.challenger_verdict AS challenger_verdict, count(*) AS n
ORDER BY arm, champion, verdict, challenger_verdict
"""

CHALLENGE_DIFFERENCES = f"""
MATCH (d:{_DEC} {{kind: 'automatic'}})-[:{Rel.ABOUT}]->(a:{_APP})
WHERE d.challenger_version = $label AND d.challenger_verdict IS NOT NULL
  AND d.challenger_verdict <> d.verdict
RETURN a.id AS application_id, a.enterprise_id AS enterprise_id, a.product_id AS product_id,
       d.arm AS arm, d.decided_at AS decided_at,
       d.policy_version AS champion, d.verdict AS verdict, d.amount_minor AS amount_minor,
       d.reasons AS reasons, coalesce(d.rules, []) AS rules,
       d.challenger_version AS challenger, d.challenger_verdict AS challenger_verdict,
       d.challenger_amount_minor AS challenger_amount_minor,
       d.challenger_reasons AS challenger_reasons, d.challenger_rules AS challenger_rules
ORDER BY decided_at DESC, application_id LIMIT $limit
"""

# Rates over time: the automatic decisions of a rule set name (every version: the recorded
# policy_version starts with `rules:<name>@`) per bucket (`$unit`: 'day' or 'week').
DECISION_RATES = f"""
MATCH (d:{_DEC} {{kind: 'automatic'}})
WHERE d.decided_at >= $from AND d.decided_at < $to AND d.policy_version STARTS WITH $prefix
RETURN date.truncate($unit, d.decided_at) AS bucket, d.verdict AS verdict, count(*) AS n,
       count(d.rules) AS with_rules
ORDER BY bucket, verdict
"""

RULE_HITS_BY_BUCKET = f"""
MATCH (d:{_DEC} {{kind: 'automatic'}})
WHERE d.decided_at >= $from AND d.decided_at < $to AND d.policy_version STARTS WITH $prefix
  AND d.rules IS NOT NULL
WITH date.truncate($unit, d.decided_at) AS bucket, d
UNWIND d.rules AS rule
RETURN bucket, rule, count(*) AS hits
ORDER BY bucket, rule
"""


def _read(driver: Driver, database: str, query: str, **params: Any) -> list[Row]:
    records, _, _ = driver.execute_query(
        query, params, database_=database, routing_=RoutingControl.READ
    )
    return [r.data() for r in records]


def challenger_of(driver: Driver, database: str, name: str) -> Row | None:
    """The version of ``name`` running as challenger, if any."""
    rows = _read(driver, database, CHALLENGER_OF, name=name, status=RuleSetStatus.CHALLENGER.value)
    return dict(rows[0]["rule_set"]) if rows else None


def challenger_of_tx(tx: ManagedTransaction, name: str) -> Row | None:
    rec = tx.run(CHALLENGER_OF, name=name, status=RuleSetStatus.CHALLENGER.value).single()
    return None if rec is None else dict(rec["rule_set"])


def challenge_counts(driver: Driver, database: str, label: str) -> list[Row]:
    return _read(driver, database, CHALLENGE_COUNTS, label=label)


def challenge_differences(driver: Driver, database: str, label: str, limit: int) -> list[Row]:
    return _read(driver, database, CHALLENGE_DIFFERENCES, label=label, limit=limit)


def decision_rates(
    driver: Driver, database: str, name: str, start: datetime, end: datetime, unit: str
) -> tuple[list[Row], list[Row]]:
    """(verdict counts, rule hits) per bucket of the automatic decisions of ``name``."""
    params = {"from": start, "to": end, "prefix": f"rules:{name}@", "unit": unit}
    return (
        _read(driver, database, DECISION_RATES, **params),
        _read(driver, database, RULE_HITS_BY_BUCKET, **params),
    )


# The indicators of issue 26 that `finance.policy.read_facts` does not read, point in time
# for an enterprise applying with some collateral (`decisions.indicators.point_in_time`):
# alerts open at `$at` (raised by then, not acknowledged or cleared by then), its financings
# with money out (days past due as the end-of-day job last set them), live registrations of
# another secured party on the collateral on `$today`, and the documents uploaded by `$at`
# that prove the enterprise or an invoice offered or are attached to the application
# (`$documents`), with the failed and verified ones named (`uploaded_at` is ISO text:
# `$at_text`).
# The model version is the scores' (as read_facts reads the scores, as last written).
SEVERITY_CRITICAL = "critical"  # sensors.model.Severity.CRITICAL (graph does not import sensors)

POINT_IN_TIME = f"""
MATCH (e:{Label.ENTERPRISE} {{id: $id}})
CALL (e) {{
  OPTIONAL MATCH (al:{Label.ALERT})-[:{Rel.ABOUT}]->(e)
  WHERE datetime(coalesce(al.raised_at, al.created_at)) <= $at
    AND (al.status = '{AlertStatus.OPEN}' OR datetime(al.acknowledged_at) > $at)
    AND (al.cleared_at IS NULL OR datetime(al.cleared_at) > $at)
  RETURN count(al) AS open_alerts,
         count(CASE WHEN al.severity = $critical THEN 1 END) AS open_critical_alerts
}}
CALL (e) {{
  // Its financings with money out then: paid out by then and out now, or closed or written
  // off since. Their days past due then: the end of day's history (the last change by
  // then), or as last written without one.
  OPTIONAL MATCH (f:{Label.FINANCING})-[:{Rel.BORROWER}]->(e)
  WHERE (f.status IN $outstanding OR f.closed_on > $today OR f.written_off_on > $today)
    AND (f.start_on IS NULL OR f.start_on <= $today)
  WITH f, CASE WHEN f.dpd_on IS NULL THEN coalesce(f.dpd, 0)
               ELSE coalesce(last([i IN range(0, size(f.dpd_on) - 1)
                                   WHERE f.dpd_on[i] <= $today | f.dpd_values[i]]), 0)
          END AS dpd_then
  RETURN coalesce(max(dpd_then), 0) AS max_dpd,
         count(CASE WHEN (f.dpd_on IS NULL AND f.status = '{FinancingStatus.OVERDUE}')
                      OR (f.dpd_on IS NOT NULL AND dpd_then > 0) THEN 1 END) AS overdue_financings
}}
CALL (e) {{
  OPTIONAL MATCH (r:{Label.SECURITY_INTEREST})
  WHERE r.collateral_id IN $collateral AND r.secured_party <> $party
    AND r.registered_on <= $today AND r.expires_on >= $today
    AND (r.status = '{InterestStatus.LIVE}' OR r.discharged_on > $today)
  RETURN [x IN collect(r.id) WHERE x IS NOT NULL] AS registry_conflict_ids
}}
CALL (e) {{
  OPTIONAL MATCH (d:{Label.DOCUMENT})-[:{Rel.PROVES}]->(x)
  WHERE (x = e OR (x:{Label.INVOICE} AND x.id IN $collateral)) AND d.uploaded_at <= $at_text
  WITH collect(DISTINCT d) AS proving
  // and the documents attached to the application (given with it, `$documents`)
  OPTIONAL MATCH (a:{Label.DOCUMENT}) WHERE a.id IN $documents AND a.uploaded_at <= $at_text
  WITH proving, collect(DISTINCT a) AS attached
  WITH proving + [a IN attached WHERE NOT a IN proving] AS ds
  RETURN size(ds) AS documents,
         size([d IN ds WHERE d.outcome = '{DocumentOutcome.VERIFIED}']) AS documents_verified,
         size([d IN ds WHERE d.outcome IN $failed]) AS documents_failed,
         [d IN ds WHERE d.outcome IN $failed | d {{.id, .kind, .outcome, .reasons,
           .invoice_id, .enterprise_id, attached: d.id IN $documents}}] AS failed_documents,
         [d IN ds WHERE d.outcome = '{DocumentOutcome.VERIFIED}' | d {{.id, .kind, .invoice_id,
           .enterprise_id, attached: d.id IN $documents}}] AS verified_documents
}}
CALL (e) {{
  OPTIONAL MATCH (e)-[:{Rel.SCORED}]->(s:{Label.SCORE})
  WHERE s.scored_at <= $at
  WITH s ORDER BY s.scored_at DESC LIMIT 1
  RETURN s {{.fraud_score, .default_score, .model_version}} AS scored_then
}}
RETURN e.score_model_version AS score_model_version, open_alerts, open_critical_alerts,
       max_dpd, overdue_financings, registry_conflict_ids, documents, documents_verified,
       documents_failed, failed_documents, verified_documents, scored_then,
       e.scored_at AS scored_at,
       EXISTS {{ (e)-[:{Rel.SCORED}]->(:{Label.SCORE}) }} AS has_history
"""


def point_in_time(
    driver: Driver, database: str, enterprise_id: str, collateral_ids: list[str], party: str,
    at: datetime, today: date, at_text: str, document_ids: list[str] | None = None,
) -> Row | None:  # fmt: skip
    rows = _read(
        driver, database, POINT_IN_TIME, id=enterprise_id, collateral=collateral_ids,
        party=party, at=at, today=today, at_text=at_text, critical=SEVERITY_CRITICAL,
        documents=document_ids or [],
        outstanding=values(FINANCING_OUTSTANDING),
        failed=[DocumentOutcome.MISMATCH.value, DocumentOutcome.FORGED.value],
    )  # fmt: skip
    return rows[0] if rows else None


# Post-loan: per financing, the alerts open now about it or its borrower (not the
# early warnings the rules raise themselves) and the live registrations of a secured party
# other than its lender on its collateral, on `$today`.
POSTLOAN_EXTRA = f"""
UNWIND $ids AS fid
MATCH (f:{Label.FINANCING} {{id: fid}})-[:{Rel.BORROWER}]->(e:{Label.ENTERPRISE})
CALL (f, e) {{
  OPTIONAL MATCH (al:{Label.ALERT})-[:{Rel.ABOUT}]->(x)
  WHERE (x = f OR x = e) AND al.status = '{AlertStatus.OPEN}' AND al.cleared_at IS NULL
    AND al.kind <> $own_kind
  WITH DISTINCT al
  RETURN count(al) AS open_alerts,
         count(CASE WHEN al.severity = $critical THEN 1 END) AS open_critical_alerts
}}
CALL (f) {{
  OPTIONAL MATCH (c)-[:{Rel.PLEDGED_TO}|{Rel.ASSIGNED_TO}]->(f)
  OPTIONAL MATCH (r:{Label.SECURITY_INTEREST})-[:{Rel.COVERS}]->(c)
  WHERE r.secured_party <> coalesce(f.lender, '') AND r.registered_on <= $today
    AND r.expires_on >= $today
    AND (r.status = '{InterestStatus.LIVE}' OR r.discharged_on > $today)
  RETURN [x IN collect(DISTINCT r.id) WHERE x IS NOT NULL] AS registry_conflict_ids
}}
RETURN fid AS financing_id, open_alerts, open_critical_alerts, registry_conflict_ids
"""


def postloan_extra(
    driver: Driver, database: str, financing_ids: list[str], today: date, own_kind: str
) -> dict[str, Row]:
    rows = _read(
        driver, database, POSTLOAN_EXTRA, ids=financing_ids, today=today, own_kind=own_kind,
        critical=SEVERITY_CRITICAL,
    )  # fmt: skip
    return {str(r["financing_id"]): r for r in rows}
