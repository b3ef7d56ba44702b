"""`GET /api/v1/contracts/{id}/signed.pdf`: a graph Contract rendered as a PDF (WeasyPrint)
and signed with the platform's signer key (pyHanko, PAdES), for the parties to countersign or
keep (docs/documents.md). Each call signs afresh; nothing is stored. The signed PDF is
uploaded back and verified with GraphQL's `uploadSignedContract`.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.deps import CurrentUserDep, DriverDep, SettingsDep
from api.errors import http_status_of
from api.security import Role
from documents.errors import DocumentsError
from documents.signed_contracts import identity_of, signed_contract_pdf

router = APIRouter(prefix="/api/v1", tags=["contracts"])

# Signing in the platform's name is a credit act (admins pass every check).
SIGNERS = frozenset({Role.CREDIT_OFFICER})


@router.get(
    "/contracts/{contract_id}/signed.pdf",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The signed contract."},
        404: {"description": "Unknown contract."},
    },
)
async def signed_contract(
    contract_id: str, user: CurrentUserDep, settings: SettingsDep, driver: DriverDep
) -> Response:
    """The contract as a signed PDF, rendered from the graph's facts."""
    if not user.has_any(SIGNERS):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role does not allow signing")
    try:
        identity = await run_in_threadpool(identity_of, settings)
        pdf = await run_in_threadpool(
            signed_contract_pdf, driver, settings.neo4j_database, identity, contract_id
        )
    except DocumentsError as e:
        raise HTTPException(http_status_of(e), str(e)) from e
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", contract_id)[:100]
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="contract-{safe}.pdf"'},
    )
