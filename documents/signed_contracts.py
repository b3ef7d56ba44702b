"""Signed contracts end to end: a graph Contract rendered and signed as a PDF, and an
uploaded signed PDF verified against the project's trust root and stored as a `Document`.

An upload that is not a readable PDF with pages (empty, over the size limit, not a PDF,
corrupt, no pages) or names a contract the graph does not have is refused before anything is
written. A readable PDF whose signature fails is stored, with status `invalid` and the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from pathlib import Path
from typing import Any

from neo4j import Driver

from chainlens.settings import Settings
from documents.contracts import ContractFacts, render_contract_pdf
from documents.errors import UnknownReference
from documents.signing import SigningIdentity, check_pdf, sign_pdf, verify_signed_pdf
from graph.model import DocumentOutcome, SignatureStatus
from graph.queries import signed_contracts as q

KIND = "signed_contract"
MEDIA_TYPE = "application/pdf"

_identities: dict[tuple[Path, str], SigningIdentity] = {}
_lock = threading.Lock()


def identity_of(settings: Settings) -> SigningIdentity:
    """The settings' signing identity, made on first use and kept for the process."""
    folder = settings.effective_signing_dir()
    passphrase = settings.effective_signing_passphrase().get_secret_value()
    with _lock:
        key = (folder, passphrase)
        if key not in _identities:
            _identities[key] = SigningIdentity.ensure(folder, passphrase)
        return _identities[key]


def contract_facts(driver: Driver, database: str, contract_id: str) -> ContractFacts:
    row = q.contract_facts(driver, database, contract_id)
    if row is None:
        raise UnknownReference(f"no contract {contract_id}")
    return ContractFacts.from_row(row)


def signed_contract_pdf(
    driver: Driver, database: str, identity: SigningIdentity, contract_id: str
) -> bytes:
    """The contract rendered from the graph and signed by the identity's signer."""
    facts = contract_facts(driver, database, contract_id)
    return sign_pdf(render_contract_pdf(facts), identity, facts.id)


def upload_signed_contract(
    driver: Driver,
    database: str,
    identity: SigningIdentity,
    data: bytes,
    *,
    contract_id: str,
    username: str,
    max_bytes: int,
) -> dict[str, Any]:
    """Verify a signed PDF for ``contract_id`` and store the result; the stored Document."""
    pages = check_pdf(data, max_bytes)
    if q.contract_facts(driver, database, contract_id) is None:
        raise UnknownReference(f"no contract {contract_id}")
    check = verify_signed_pdf(data, identity.ca_cert, contract_id)
    valid = check.status is SignatureStatus.VALID
    props = {
        "id": f"DOC-{uuid.uuid4().hex[:20]}",
        "kind": KIND,
        "file_hash": hashlib.sha256(data).hexdigest(),
        "media_type": MEDIA_TYPE,
        "size_bytes": len(data),
        "pages": pages,
        "contract_id": contract_id,
        "signature_status": check.status.value,
        "signer": check.signer,
        "signed_at": check.signed_at,
        "signature_reason": check.reason,
        "signatures": check.signatures,
        "outcome": (DocumentOutcome.VERIFIED if valid else DocumentOutcome.FORGED).value,
        "reasons": [] if valid else [check.reason],
        "uploaded_by": username,
        "uploaded_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
    }
    stored = q.create_signed_document(
        driver, database, {k: v for k, v in props.items() if v is not None}
    )
    if stored is None:  # the contract was removed between the check and the write
        raise UnknownReference(f"no contract {contract_id}")
    return stored


def signed_documents(driver: Driver, database: str, contract_id: str) -> list[dict[str, Any]]:
    return q.signed_documents(driver, database, contract_id, KIND)
