"""Idempotency keys for the mutations that take a ``requestId``, in one place.

A key is scoped to the caller and to the mutation: the same key sent by two users, or by one
user to two mutations, names two requests. For one caller and one mutation:

- the first use claims the key with a fingerprint of every other argument, then runs the
  domain operation and stores its answer;
- the same key with the same arguments answers the first result and writes nothing again;
- the same key with other arguments is refused (``CONFLICT``, HTTP 409) before anything runs;
- a request the domain refuses (bad input, a limit) releases its claim: it wrote nothing,
  so the key may be used again.

The claims live in Neo4j (`graph/queries/idempotency.py`), so several API processes agree. A
repeat that arrives while the first is still running waits for its answer (up to
``WAIT_S``); a claim left unanswered by a process that died is retried through the domain,
which keys its writes by the request id and so never applies them twice. A claim this very
process made and is no longer running (its request met an unreachable database, so the claim
could be neither answered nor released) is retried at once rather than waited on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from api.availability import unreachable
from api.errors import is_domain_error
from finance.errors import FinanceError, IdempotencyConflict
from graph.queries.idempotency import Claim, claim_key, complete_claim, read_claim, release_claim

# Printable and unambiguous: "~" is kept for the tag that scopes a key to a second caller.
REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,63}")
WAIT_S = 15.0  # how long a repeat waits for the first request's answer
POLL_S = 0.05

Result = dict[str, Any]
# This process, as written on its claims, and the claims it is running now.
PROCESS = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
_RUNNING: set[str] = set()


def checked_key(key: str) -> str:
    if not REQUEST_ID.fullmatch(key):
        raise FinanceError(
            "a request id is 1 to 64 characters: letters, digits and . _ : @ / + = -, "
            "starting with a letter or digit"
        )
    return key


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def fingerprint(payload: Mapping[str, Any]) -> str:
    """A stable digest of a mutation's arguments (the request id left out)."""
    text = json.dumps(_plain(payload), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def idempotent(
    call: Callable[..., Awaitable[Any]],
    owner: str,
    mutation: str,
    key: str,
    payload: Mapping[str, Any],
    run: Callable[[str], Awaitable[Result]],
) -> Result:
    """``run(request_id)`` at most once for (``owner``, ``mutation``, ``key``) and these
    arguments; its JSON-able answer, or the first answer on a repeat.

    ``call`` runs a blocking function with the driver and database first (the GraphQL
    context's ``call``); ``run`` gets the request id to hand to the domain."""
    checked_key(key)
    digest = fingerprint(payload)
    deadline = time.monotonic() + WAIT_S
    while True:
        claim: Claim = await call(
            claim_key, owner, mutation, key, digest, datetime.now(UTC), PROCESS
        )
        if claim.payload_hash != digest:
            raise IdempotencyConflict(
                f"request id {key} was already used for {mutation} with other arguments; "
                "a new request needs a new request id"
            )
        if claim.result is not None:
            return dict(json.loads(claim.result))
        if claim.created or (claim.process == PROCESS and claim.id not in _RUNNING):
            break  # ours: new, or left behind by a request of ours that met a lost database
        # Another request with this key is running (or died): wait for its answer.
        while time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            seen: Claim | None = await call(read_claim, claim.id)
            if seen is None or seen.result is not None:
                break
        else:
            break  # still unanswered: run it ourselves, the domain keys its writes
        if seen is not None and seen.result is not None:
            return dict(json.loads(seen.result))
        # Released (the first request was refused): claim it again.
    _RUNNING.add(claim.id)
    try:
        result = await run(claim.request_id)
    except Exception as e:
        # Refused before writing: the key is free again. With the database gone the claim
        # can be neither released nor answered; a retry through this process runs it again.
        if is_domain_error(e) and not unreachable(e):
            await call(release_claim, claim.id, digest)
        raise
    finally:
        _RUNNING.discard(claim.id)
    stored = await call(complete_claim, claim.id, json.dumps(result), datetime.now(UTC))
    return dict(json.loads(stored))
