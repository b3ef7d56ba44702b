"""A financing's contract, generated, signed by both parties and verified (docs/documents.md
#financing-contracts).

- `generate`: the product's templates (`documents.templates`) filled from the financing, its
  application and the graph, rendered to one PDF and stored on a `Document` (kind
  `financing_contract`, PROVES the financing) with the templates' ``id@version``, the file's
  SHA-256 and the PDF itself. An approved financing only; each call makes a new contract,
  and the newest is the financing's contract.
- `sign`: hosted signing, as Chinese e-sign platforms do it: the platform holds each party's
  key (a certificate per party issued by the project CA, `documents.signing.party_identity`)
  and signs for the party whose authorised user asks (the API checks who may ask). Each
  signature is a PAdES signature in the party's own field (`borrower`, `funder`), appended as
  an incremental update of the same PDF, with an RFC 3161 timestamp from the project TSA (or
  the deployment's, `contract_tsa_url`).
- `verify_stored` / `verify_upload`: every signature validated by pyHanko (signer, time,
  timestamp), each matched to its party; a changed byte or a later edit fails it.
- `require_signed`: what `signContract` needs, the newest contract carrying valid,
  timestamped signatures of the borrower and of the funder; ContractNotSigned says in words
  what is missing otherwise.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from neo4j import Driver

from chainlens.settings import Settings
from documents.errors import DocumentsError, UnknownReference
from documents.signed_contracts import identity_of
from documents.signing import (
    Party,
    SignatureReport,
    check_pdf,
    party_identity,
    project_timestamper,
    sign_pdf,
    signature_reports,
    tsa_identity,
    url_timestamper,
)
from documents.templates import FinancingContractFacts, render_financing_contract, templates_for
from graph.queries import financing_contracts as q

KIND = "financing_contract"
MEDIA_TYPE = "application/pdf"
GENERATED_MAX_BYTES = 16 * 1024 * 1024  # a generated contract is checked as an upload is


class ContractParty(StrEnum):
    """Who signs a financing's contract; also the name of the party's signature field."""

    BORROWER = "borrower"
    FUNDER = "funder"


class ContractNotSigned(DocumentsError):
    """`signContract` without a contract validly signed by both parties; nothing changed."""

    http_status = 409
    error_code = "CONTRACT_NOT_SIGNED"


class SignerRefused(DocumentsError):
    """One user asking to sign both parties' sides of one contract."""

    http_status = 403


class ContractState(DocumentsError):
    """A contract asked of a financing that is not approved, or a signature of a contract
    that changed meanwhile."""

    http_status = 409


@dataclass(frozen=True)
class PartySignature:
    """One signature of a contract and the party it belongs to (None: neither party's)."""

    party: ContractParty | None
    report: SignatureReport


@dataclass(frozen=True)
class ContractVerification:
    """What verifying a contract PDF found: every signature, whether all of them pass, which
    parties have signed validly with a valid timestamp, and who is still missing."""

    document_id: str
    file_hash: str
    valid: bool
    signatures: list[PartySignature]
    signed: list[ContractParty]
    missing: list[ContractParty]
    reason: str

    @property
    def complete(self) -> bool:
        return self.valid and not self.missing


_lock = threading.Lock()
_timestampers: dict[tuple[Path, str, str | None], Any] = {}


def _folder(settings: Settings) -> tuple[Path, str]:
    return (settings.effective_signing_dir(),
            settings.effective_signing_passphrase().get_secret_value())  # fmt: skip


def timestamper_of(settings: Settings) -> Any:
    """The deployment's TSA when `contract_tsa_url` is set, else the project TSA in process."""
    folder, passphrase = _folder(settings)
    key = (folder, passphrase, settings.contract_tsa_url)
    with _lock:
        if key not in _timestampers:
            _timestampers[key] = (
                url_timestamper(settings.contract_tsa_url) if settings.contract_tsa_url
                else project_timestamper(tsa_identity(folder, passphrase))
            )  # fmt: skip
        return _timestampers[key]


def trust_roots(settings: Settings) -> list[x509.Certificate]:
    """The project CA (parties and the project TSA), and the outside TSA's root if set."""
    roots = [identity_of(settings).ca_cert]
    if settings.contract_tsa_root is not None:
        try:
            roots.append(x509.load_pem_x509_certificate(settings.contract_tsa_root.read_bytes()))
        except (OSError, ValueError) as e:
            raise DocumentsError(f"contract_tsa_root cannot be read: {e}") from e
    return roots


def _facts_row(driver: Driver, database: str, financing_id: str) -> dict[str, Any]:
    row = q.financing_contract_facts(driver, database, financing_id)
    if row is None:
        raise UnknownReference(f"financing {financing_id} does not exist")
    return row


def parties_of(row: dict[str, Any]) -> dict[ContractParty, Party]:
    """The two parties of a financing's contract, as their certificates name them."""
    f, b, fu = row["financing"], row.get("borrower") or {}, row.get("funder") or {}
    funder_id = str(f.get("funder_id") or fu.get("id") or "default")
    borrower_id = str(f.get("borrower_id") or b.get("id"))
    return {
        ContractParty.BORROWER: Party(f"enterprise:{borrower_id}",
                                      str(b.get("name") or borrower_id), b.get("uscc")),
        ContractParty.FUNDER: Party(f"funder:{funder_id}",
                                    str(fu.get("name") or f.get("lender") or funder_id)),
    }  # fmt: skip


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def generate(
    driver: Driver, database: str, financing_id: str, *, username: str,
    today: dt.date | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A new contract for an approved financing, from its product's templates; the stored
    Document (without its PDF)."""
    row = _facts_row(driver, database, financing_id)
    status = row["financing"].get("status")
    if status != "approved":
        raise ContractState(f"financing {financing_id} is {status}: a contract is generated "
                            "for an approved financing")  # fmt: skip
    templates = templates_for(str(row["financing"].get("product_id")))
    doc_id = f"DOC-{uuid.uuid4().hex[:20]}"
    facts = FinancingContractFacts.from_row(row, doc_id, today or dt.datetime.now(dt.UTC).date())
    pdf = render_financing_contract(facts, templates)
    pages = check_pdf(pdf, GENERATED_MAX_BYTES)
    digest = hashlib.sha256(pdf).hexdigest()
    stored = q.create_contract_document(driver, database, {
        "id": doc_id, "kind": KIND, "financing_id": financing_id,
        "templates": [t.ref for t in templates], "content": pdf, "file_hash": digest,
        "generated_hash": digest, "media_type": MEDIA_TYPE, "size_bytes": len(pdf),
        "pages": pages, "signatures": 0, "signed_parties": [], "generated_by": username,
        "generated_at": _now(),
    })  # fmt: skip
    if stored is None:
        raise UnknownReference(f"financing {financing_id} does not exist")
    return stored


def current(driver: Driver, database: str, financing_id: str) -> dict[str, Any] | None:
    """The financing's newest contract Document, with its PDF (`content`)."""
    return q.current_contract_document(driver, database, financing_id, KIND)


def _require_current(driver: Driver, database: str, financing_id: str) -> dict[str, Any]:
    doc = current(driver, database, financing_id)
    if doc is None:
        raise UnknownReference(f"financing {financing_id} has no contract yet: generate it "
                               "first (generateFinancingContract)")  # fmt: skip
    return doc


def verify(
    data: bytes, settings: Settings, document_id: str, parties: dict[ContractParty, Party]
) -> ContractVerification:
    """Every signature of ``data`` (a contract PDF for ``document_id``) and whose it is: a
    party's signature is in the party's field by the party's certificate; it counts as signed
    when valid and timestamped by a trusted TSA."""
    reports, unreadable = signature_reports(data, trust_roots(settings), document_id)
    digest = hashlib.sha256(data).hexdigest()
    by_key = {p.key: role for role, p in parties.items()}
    sigs: list[PartySignature] = []
    for r in reports:
        role = by_key.get(r.signer_id or "")
        sigs.append(PartySignature(role if role is not None and r.field == role.value else None,
                                   r))  # fmt: skip
    signed = [role for role in ContractParty
              if any(s.party is role and s.report.valid and s.report.timestamp_valid
                     for s in sigs)]  # fmt: skip
    missing = [role for role in ContractParty if role not in signed]
    problems = [s.report.reason for s in sigs if not s.report.valid]
    strangers = [s.report for s in sigs if s.party is None and s.report.valid]
    problems += [f"{r.field}: signed by {r.signer} ({r.signer_id}), neither party of this "
                 "contract in its own field" for r in strangers]  # fmt: skip
    valid = bool(sigs) and not problems
    if unreadable is not None:
        reason = unreadable
    elif problems:
        reason = "; ".join(problems)
    elif missing:
        reason = (f"{len(sigs)} valid signature(s); not yet signed by the "
                  + " and the ".join(m.value for m in missing))  # fmt: skip
    else:
        reason = "signed by the borrower and the funder, each signature valid and timestamped"
    return ContractVerification(document_id, digest, valid, sigs, signed, missing, reason)


def verify_stored(
    driver: Driver, database: str, settings: Settings, financing_id: str
) -> tuple[dict[str, Any], ContractVerification]:
    """The financing's newest contract (without its PDF) and its verification."""
    doc = _require_current(driver, database, financing_id)
    parties = parties_of(_facts_row(driver, database, financing_id))
    check = verify(doc["content"], settings, doc["id"], parties)
    return {k: v for k, v in doc.items() if k != "content"}, check


def verify_upload(
    driver: Driver, database: str, settings: Settings, financing_id: str, data: bytes,
    max_bytes: int,
) -> ContractVerification:  # fmt: skip
    """An uploaded copy of the financing's contract verified (nothing stored). A copy of
    another contract fails: its signatures name that contract, not this one."""
    check_pdf(data, max_bytes)
    doc = _require_current(driver, database, financing_id)
    return verify(data, settings, doc["id"], parties_of(_facts_row(driver, database,
                                                                   financing_id)))  # fmt: skip


def sign(
    driver: Driver, database: str, settings: Settings, financing_id: str,
    party: ContractParty, *, username: str,
) -> tuple[dict[str, Any], ContractVerification]:  # fmt: skip
    """The party's signature appended to the financing's newest contract (the caller has
    checked that ``username`` may sign for ``party``). Signing twice answers the contract as
    it is. The contract must verify before it is signed, and the user who had one party sign
    may not have the other sign (SignerRefused): two people, one per side."""
    doc = _require_current(driver, database, financing_id)
    other = ContractParty.FUNDER if party is ContractParty.BORROWER else ContractParty.BORROWER
    if doc.get(f"{other.value}_signed_by") == username:
        raise SignerRefused(f"{username} had the {other.value} sign contract {doc['id']}: the "
                            f"{party.value}'s signature is asked by someone else")  # fmt: skip
    parties = parties_of(_facts_row(driver, database, financing_id))
    before = verify(doc["content"], settings, doc["id"], parties)
    if before.signatures and not before.valid:
        raise ContractState(f"contract {doc['id']} does not verify and is not signed again: "
                            f"{before.reason}")  # fmt: skip
    if party in before.signed:
        return {k: v for k, v in doc.items() if k != "content"}, before
    folder, passphrase = _folder(settings)
    identity = party_identity(folder, passphrase, parties[party])
    pdf = sign_pdf(doc["content"], identity, doc["id"], field_name=party.value,
                   timestamper=timestamper_of(settings))  # fmt: skip
    after = verify(pdf, settings, doc["id"], parties)
    stored = q.update_signed_contract(driver, database, doc["id"], doc["file_hash"], {
        "content": pdf, "file_hash": after.file_hash, "size_bytes": len(pdf),
        "signatures": len(after.signatures), "signed_parties": [p.value for p in after.signed],
        "signer": "; ".join(str(s.report.signer) for s in after.signatures),
        "signed_at": _now(), f"{party.value}_signed_by": username,
    })  # fmt: skip
    if stored is None:
        raise ContractState(f"contract {doc['id']} changed while {username} signed it "
                            "(another signature came first): sign again")  # fmt: skip
    return stored, after


def require_signed(
    driver: Driver, database: str, settings: Settings, financing_id: str
) -> tuple[str, str]:
    """(document id, SHA-256) of the financing's contract when it carries valid, timestamped
    signatures of the borrower and the funder; ContractNotSigned naming what is missing."""
    doc = current(driver, database, financing_id)
    if doc is None:
        raise ContractNotSigned(
            f"financing {financing_id} has no contract: generate it (generateFinancingContract) "
            "and have the borrower and the funder sign it (signFinancingContract)"
        )
    parties = parties_of(_facts_row(driver, database, financing_id))
    check = verify(doc["content"], settings, doc["id"], parties)
    if check.signatures and not check.valid:
        raise ContractNotSigned(f"contract {doc['id']} of financing {financing_id} does not "
                                f"verify: {check.reason}")  # fmt: skip
    if check.missing:
        who = " and ".join(f"the {m.value} ({parties[m].name})" for m in check.missing)
        raise ContractNotSigned(f"contract {doc['id']} of financing {financing_id} is not "
                                f"signed yet by {who}")  # fmt: skip
    return str(doc["id"]), check.file_hash
