"""`POST /api/v1/documents`: upload a business licence or VAT invoice (docs/documents.md).

The body is the file itself (an image or a PDF, at most `documents.ocr.MAX_BYTES`), its type
told by its first bytes; `kind`, `enterprise_id` and `invoice_id` are query parameters. The
answer is the stored `Document`: the extracted fields with their confidence and review
marks, the outcome of the check against the graph with its reasons and, for an invoice, its
four-flow checks as the graph held them (`four_flow`). Bad input is refused
with a 4xx before anything is stored: 413 over the size limit, 415 not an image or PDF, 422 a
corrupt image, a PDF with no pages, or a page that is neither document, 404 an unknown
enterprise or invoice. `GET /api/v1/documents/{id}` reads one back.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUserDep, DriverDep, SettingsDep
from api.errors import http_status_of
from api.security import Role
from documents.errors import DocumentsError
from documents.fields import DocumentKind
from documents.ocr import MAX_BYTES
from documents.service import process_upload
from graph.queries.documents import get_document

router = APIRouter(prefix="/api/v1", tags=["documents"])

# Who may upload: the people who onboard firms and take evidence for financings.
WRITERS = frozenset({Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER})
READERS = frozenset({Role.RELATIONSHIP_MANAGER, Role.CREDIT_OFFICER, Role.ANALYST})


class FieldPublic(BaseModel):
    name: str
    value: str | None
    raw: str
    confidence: float
    needs_review: bool
    reason: str


class FlowCheckPublic(BaseModel):
    flow: str
    present: bool
    consistent: bool
    detail: str


class DocumentPublic(BaseModel):
    id: str
    kind: str
    outcome: str
    reasons: list[str]
    for_review: list[str]
    fields: dict[str, FieldPublic]
    file_hash: str
    media_type: str
    size_bytes: int
    pages: int
    enterprise_id: str | None = None
    invoice_id: str | None = None
    invoice_key: str | None = None
    uploaded_by: str
    uploaded_at: str
    ocr_seconds: float
    text_method: str | None = None  # text_layer or ocr
    four_flow: list[FlowCheckPublic] | None = None  # an invoice's, as the graph held them


def _public(row: dict[str, Any]) -> DocumentPublic:
    flows = json.loads(row["four_flow"])["checks"] if row.get("four_flow") else None
    return DocumentPublic(**{**row, "fields": json.loads(row["fields"]), "four_flow": flows})


async def _body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes MAX_BYTES."""
    declared = request.headers.get("content-length")
    too_large = f"a document is at most {MAX_BYTES} bytes"
    if declared is not None and declared.isdigit() and int(declared) > MAX_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_large)
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/documents",
    response_model=DocumentPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        404: {"description": "Unknown enterprise or invoice."},
        413: {"description": "File too large."},
        415: {"description": "Not an image or PDF."},
        422: {"description": "Corrupt file, empty PDF, or not a licence or invoice."},
    },
)
async def upload_document(
    request: Request,
    user: CurrentUserDep,
    settings: SettingsDep,
    driver: DriverDep,
    kind: DocumentKind | None = None,
    enterprise_id: str | None = None,
    invoice_id: str | None = None,
) -> DocumentPublic:
    """Read a licence or invoice by OCR, check it against the graph and store the result."""
    if not user.has_any(WRITERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow uploads")
    data = await _body(request)
    try:
        row = await run_in_threadpool(
            process_upload, driver, settings.neo4j_database, data, username=user.username,
            kind=kind, enterprise_id=enterprise_id, invoice_id=invoice_id,
        )  # fmt: skip
    except DocumentsError as e:
        # Answered here, not by the app's catch-all handler: Starlette re-raises from that
        # one after answering, and the server then drops the keep-alive connection.
        raise HTTPException(http_status_of(e), str(e)) from e
    return _public(row)


@router.get("/documents/{document_id}", response_model=DocumentPublic)
async def read_document(
    document_id: str, user: CurrentUserDep, settings: SettingsDep, driver: DriverDep
) -> DocumentPublic:
    """One stored document: its fields, review marks and verification."""
    if not user.has_any(READERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow documents")
    row = await run_in_threadpool(get_document, driver, settings.neo4j_database, document_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no document {document_id}")
    return _public(row)
