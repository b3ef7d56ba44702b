"""`POST /api/v1/telemetry`: HTTP batches of sensor readings (docs/sensors.md).

The body is a JSON array of readings, each with `sensor_id`; the answer says per reading
what happened (`accepted`, `duplicates`, `rejected` with index, reason and detail) and comes
only after the accepted readings are fsync'd. A client that retries after a lost answer gets
its readings back as duplicates. Bodies over `sensors_http_max_bytes`, or more than 10 000
readings, are refused with 413 before anything is stored.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.audit import clean_text
from api.deps import CurrentUserDep, SettingsDep
from api.security import Role
from sensors.errors import SensorsError
from sensors.intake import MAX_HTTP_BATCH

router = APIRouter(prefix="/api/v1", tags=["sensors"])

WRITERS = frozenset({Role.SERVICE})


class RejectedReading(BaseModel):
    index: int
    sensor_id: str | None
    reason: str
    detail: str


class TelemetryResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: list[RejectedReading]


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"a batch is at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"a batch is at most {limit} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/telemetry",
    response_model=TelemetryResult,
    responses={413: {"description": "Batch too large."}, 503: {"description": "Store down."}},
)
async def post_telemetry(
    request: Request, user: CurrentUserDep, settings: SettingsDep
) -> TelemetryResult:
    """Store a batch of readings durably (role service); per-reading verdicts."""
    if not user.has_any(WRITERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow telemetry")
    raw = await _body(request, settings.sensors_http_max_bytes)
    try:
        readings: Any = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"the body is not JSON: {e}") from e
    if not isinstance(readings, list):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "a batch is a JSON array of readings")
    if len(readings) > MAX_HTTP_BATCH:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, f"a batch holds at most {MAX_HTTP_BATCH} readings"
        )
    try:
        result = await run_in_threadpool(request.app.state.sensors.accept, readings)
    except SensorsError as e:  # answered here: the app's catch-all handler re-raises
        raise HTTPException(e.http_status, str(e)) from e
    return TelemetryResult(
        accepted=result.accepted,
        duplicates=result.duplicates,
        rejected=[
            RejectedReading(
                index=r.index,
                # Echoed back as sent, but bounded and encodable (a lone surrogate escaped).
                sensor_id=None if r.sensor_id is None else clean_text(str(r.sensor_id), 200),
                reason=r.reason.value,
                detail=clean_text(r.detail),
            )
            for r in result.rejected
        ],
    )
