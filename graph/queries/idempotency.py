"""Cypher for the API's idempotency keys: `(:IdempotencyKey)` nodes, one per request id a
caller has used with a mutation.

A key is scoped to its caller and its mutation. The node remembers a fingerprint of the
arguments it was first sent with, the request id handed to the domain, and (once the domain
has answered) the result, so that a repeat with the same arguments answers the first result
and a repeat with other arguments is refused.

The domain keys its own writes by the request id it is given (`dd:{request id}` for a
drawdown's transfers). The first caller to use a key for a mutation hands the key on as it
is; a second caller using the same key for the same mutation gets a request id of its own
(`{key}~{tag of the caller}`), so two callers' keys never meet in the ledger. Both claims
are MERGEd on a unique id inside one write transaction, so concurrent first uses agree.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from neo4j import Driver, ManagedTransaction, RoutingControl

from graph.model import Label

_IK = Label.IDEMPOTENCY_KEY.value

CLAIM = f"""
MERGE (k:{_IK} {{id: $id}})
ON CREATE SET k.owner = $owner, k.mutation = $mutation, k.key = $key,
              k.request_id = $request_id, k.payload_hash = $payload_hash,
              k.created_at = $now, k.process = $process, k._new = true
WITH k, coalesce(k._new, false) AS created
REMOVE k._new
RETURN k {{.owner, .request_id, .payload_hash, .result, .created_at, .process}} AS claim,
       created
"""

READ = f"""
MATCH (k:{_IK} {{id: $id}})
RETURN k {{.owner, .request_id, .payload_hash, .result, .created_at, .process}} AS claim
"""

# The first answer stays: a concurrent retry that completes later cannot replace it.
COMPLETE = f"""
MATCH (k:{_IK} {{id: $id}})
SET k.result = coalesce(k.result, $result),
    k.completed_at = coalesce(k.completed_at, $now)
RETURN k.result AS result
"""

# Only an unanswered claim with this fingerprint: the request it stood for wrote nothing.
RELEASE = f"""
MATCH (k:{_IK} {{id: $id}})
WHERE k.result IS NULL AND k.payload_hash = $payload_hash
DELETE k
"""


@dataclass(frozen=True, slots=True)
class Claim:
    """A caller's key for a mutation, as stored (first use or an earlier one)."""

    id: str
    owner: str
    request_id: str
    payload_hash: str
    result: str | None
    created_at: datetime
    created: bool  # this call made it
    process: str | None = None  # the API process that made it


def owner_tag(owner: str) -> str:
    """A short stable tag of a username, for the request ids of keys used by two callers."""
    return hashlib.sha256(owner.encode()).hexdigest()[:10]


def _node_id(mutation: str, key: str) -> str:
    return hashlib.sha256(f"{mutation}\x00{key}".encode()).hexdigest()


def _claim(record: Any, node_id: str, created: bool) -> Claim:
    c = record
    at = c["created_at"]
    return Claim(
        id=node_id, owner=c["owner"], request_id=c["request_id"],
        payload_hash=c["payload_hash"], result=c["result"],
        created_at=at.to_native() if hasattr(at, "to_native") else at, created=created,
        process=c.get("process"),
    )  # fmt: skip


def _claim_tx(
    tx: ManagedTransaction, owner: str, mutation: str, key: str, payload_hash: str, now: datetime,
    process: str | None,
) -> Claim:  # fmt: skip
    # The plain key first: whoever holds it keeps it. Another caller gets its own request id.
    for request_id in (key, f"{key}~{owner_tag(owner)}"):
        node_id = _node_id(mutation, request_id)
        record = tx.run(
            CLAIM, id=node_id, owner=owner, mutation=mutation, key=key, request_id=request_id,
            payload_hash=payload_hash, now=now, process=process,
        ).single(strict=True)  # fmt: skip
        claim = _claim(record["claim"], node_id, record["created"])
        if claim.owner == owner:
            return claim
    raise AssertionError(f"the tagged key {key!r} of {owner!r} belongs to another caller")


def claim_key(
    driver: Driver,
    database: str,
    owner: str,
    mutation: str,
    key: str,
    payload_hash: str,
    now: datetime,
    process: str | None = None,
) -> Claim:
    """The caller's claim on ``key`` for ``mutation``: made now with ``payload_hash`` (and the
    claiming ``process``) when the caller never used it, the stored one otherwise (whatever its
    fingerprint)."""
    with driver.session(database=database) as session:
        return session.execute_write(_claim_tx, owner, mutation, key, payload_hash, now, process)


def read_claim(driver: Driver, database: str, node_id: str) -> Claim | None:
    records, _, _ = driver.execute_query(
        READ, id=node_id, database_=database, routing_=RoutingControl.READ
    )
    return _claim(records[0]["claim"], node_id, False) if records else None


def complete_claim(driver: Driver, database: str, node_id: str, result: str, now: datetime) -> str:
    """Store the domain's answer; returns the stored answer (the first one when two raced)."""
    records, _, _ = driver.execute_query(
        COMPLETE, id=node_id, result=result, now=now, database_=database
    )
    return str(records[0]["result"]) if records else result


def release_claim(driver: Driver, database: str, node_id: str, payload_hash: str) -> None:
    """Forget an unanswered claim whose request the domain refused (it wrote nothing), so the
    key can be used again."""
    driver.execute_query(RELEASE, id=node_id, payload_hash=payload_hash, database_=database)
