"""PAdES signatures on contract PDFs (pyHanko) under a project certificate authority.

`SigningIdentity.ensure(folder, passphrase)` makes, on first use, a small test CA and one
signer certificate issued by it with `cryptography` (ECDSA P-256, SHA-256): the CA's
certificate is the trust root that verification accepts, the signer's key signs contracts.
Private keys are written encrypted with the passphrase (from the settings) and mode 0600;
nothing here is a production key. A deployment plugs in its own CA by placing its PEM files
in the folder (docs/documents.md).

`verify_signed_pdf` runs pyHanko's validator against that trust root and reduces what it
finds to one status with a reason a person can read: the signed bytes changed, the
signature does not chain to the root, or an incremental update changed content after
signing.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from documents.errors import DocumentsError
from graph.model import SignatureStatus

CA_NAME = "ChainLens Contract Test CA"
SIGNER_NAME = "ChainLens Contract Signer"
ORGANISATION = "ChainLens"
FIELD_NAME = "ChainLensSignature"
CA_DAYS = 3650
SIGNER_DAYS = 825
_FILES = ("ca-cert.pem", "ca-key.pem", "signer-cert.pem", "signer-key.pem")


class BadSignedPdf(DocumentsError):
    """An upload that is not a readable PDF with pages: refused before anything is stored."""

    http_status = 400


@dataclass(frozen=True)
class SignatureCheck:
    """What verification found: the status, who signed (the signers' common names in signing
    order, joined by "; ") and when (the first signature's own claimed time, there is no
    timestamp authority), and why, for a person."""

    status: SignatureStatus
    signer: str | None
    signed_at: str | None
    reason: str
    signatures: int


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    ])  # fmt: skip


def _usage(*, sign: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign, content_commitment=sign, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
        encipher_only=False, decipher_only=False,
    )  # fmt: skip


def make_identity(folder: Path, passphrase: str, signer_name: str = SIGNER_NAME) -> None:
    """Write a new CA and signer (certificates and encrypted keys) into ``folder``."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(CA_NAME)).issuer_name(_name(CA_NAME))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key, cert = _issue_signer(ca_key, ca_cert, signer_name)
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in (
        ("ca-cert.pem", ca_cert.public_bytes(serialization.Encoding.PEM)),
        ("ca-key.pem", ca_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)),
        ("signer-cert.pem", cert.public_bytes(serialization.Encoding.PEM)),
        ("signer-key.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)),
    ):  # fmt: skip
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _issue_signer(
    ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, signer_name: str
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A new signer key and its certificate issued by the CA."""
    now = dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(signer_name)).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=SIGNER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


@dataclass(frozen=True)
class SigningIdentity:
    """The trust root and the signer (certificate and key) read from a folder."""

    ca_cert: x509.Certificate
    signer_cert: x509.Certificate
    signer_key: ec.EllipticCurvePrivateKey

    @classmethod
    def ensure(cls, folder: Path, passphrase: str) -> SigningIdentity:
        """The identity in ``folder``, made there first when the folder has none. Made in a
        private folder beside it and renamed into place, so that two processes starting at
        once agree on one CA."""
        if not all((folder / n).is_file() for n in _FILES):
            tmp = folder.with_name(f".{folder.name}-{uuid.uuid4().hex}")
            make_identity(tmp, passphrase)
            try:
                folder.parent.mkdir(parents=True, exist_ok=True)
                os.rename(tmp, folder)
            except OSError:  # another process was first (or a partial folder is there)
                shutil.rmtree(tmp, ignore_errors=True)
        return cls.load(folder, passphrase)

    @classmethod
    def load(cls, folder: Path, passphrase: str) -> SigningIdentity:
        try:
            key = serialization.load_pem_private_key(
                (folder / "signer-key.pem").read_bytes(), passphrase.encode()
            )
            ca = x509.load_pem_x509_certificate((folder / "ca-cert.pem").read_bytes())
            cert = x509.load_pem_x509_certificate((folder / "signer-cert.pem").read_bytes())
        except (OSError, ValueError, TypeError) as e:
            raise DocumentsError(f"the signing keys in {folder} cannot be read: {e}") from e
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise DocumentsError("the signer's key must be an EC key")
        return cls(ca_cert=ca, signer_cert=cert, signer_key=key)

    @classmethod
    def countersigner(cls, folder: Path, passphrase: str, signer_name: str) -> SigningIdentity:
        """Another signer (a borrower, say) issued now by the folder's CA; kept in memory."""
        try:
            ca_key = serialization.load_pem_private_key(
                (folder / "ca-key.pem").read_bytes(), passphrase.encode()
            )
            ca = x509.load_pem_x509_certificate((folder / "ca-cert.pem").read_bytes())
        except (OSError, ValueError, TypeError) as e:
            raise DocumentsError(f"the CA in {folder} cannot be read: {e}") from e
        if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
            raise DocumentsError("the CA's key must be an EC key")
        key, cert = _issue_signer(ca_key, ca, signer_name)
        return cls(ca_cert=ca, signer_cert=cert, signer_key=key)

    @property
    def signer_name(self) -> str:
        names = self.signer_cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else self.signer_cert.subject.rfc4514_string()

    def _pyhanko_signer(self) -> Any:
        from pyhanko.sign import signers
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        der = self.signer_key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )  # fmt: skip
        return signers.SimpleSigner(
            signing_cert=_asn1_cert(self.signer_cert),
            signing_key=asn1_keys.PrivateKeyInfo.load(der),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [_asn1_cert(self.ca_cert)]
            ),
        )


def signature_reason(contract_id: str) -> str:
    """The /Reason a contract's signature carries; verification checks it names the contract."""
    return f"ChainLens contract {contract_id}"


def sign_pdf(
    pdf: bytes, identity: SigningIdentity, contract_id: str, field_name: str = FIELD_NAME
) -> bytes:
    """``pdf`` with a PAdES signature (B-B) by the identity's signer over the whole file, in a
    new signature field ``field_name`` (a countersignature is a second field, appended as an
    incremental update that the first signature's validation accepts)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, reason=signature_reason(contract_id), md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )  # fmt: skip
    out = signers.sign_pdf(writer, meta, signer=identity._pyhanko_signer())
    return bytes(out.getvalue())


def check_pdf(data: bytes, max_bytes: int) -> int:
    """The page count of an upload that must be a PDF with pages; BadSignedPdf otherwise
    (empty, too large, not a PDF, corrupt, no pages)."""
    if not data:
        raise BadSignedPdf("the upload is empty")
    if len(data) > max_bytes:
        raise BadSignedPdf(f"a signed contract is at most {max_bytes} bytes, this one is "
                           f"{len(data)}")  # fmt: skip
    if b"%PDF-" not in data[:1024]:
        raise BadSignedPdf("not a PDF: a signed contract is uploaded as the signed PDF file")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        # pdfium refuses a well-formed PDF without pages at load; its error code is not to
        # be trusted then (it may be a previous load's), so the page tree is read instead.
        if _declared_pages(data) == 0:
            raise BadSignedPdf("the PDF has no pages") from e
        raise BadSignedPdf(f"the PDF cannot be opened: {e}") from e
    try:
        pages = len(pdf)
    finally:
        pdf.close()
    if pages == 0:
        raise BadSignedPdf("the PDF has no pages")
    return pages


def _declared_pages(data: bytes) -> int | None:
    """The page count the PDF's page tree declares, None when it cannot be read."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        count = PdfFileReader(io.BytesIO(data), strict=False).root["/Pages"]["/Count"]
        return int(count)
    except Exception:  # any failure: the file is not a readable PDF
        return None


def verify_signed_pdf(
    data: bytes, trust_root: x509.Certificate, contract_id: str
) -> SignatureCheck:
    """Every signature of ``data`` validated by pyHanko against ``trust_root``; VALID only
    when there is at least one, each is intact, cryptographically valid, trusted, names
    ``contract_id`` and was followed by no change of content. The first problem found is the
    reason. The file is assumed to have passed `check_pdf`."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    def invalid(reason: str, signer: str | None = None, at: str | None = None,
                n: int = 0) -> SignatureCheck:  # fmt: skip
        return SignatureCheck(SignatureStatus.INVALID, signer, at, reason, n)

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as e:
        return invalid(f"the signatures cannot be read: {e}")
    if not signatures:
        return invalid("the PDF carries no signature")
    root = _asn1_cert(trust_root)
    names: list[str] = []
    first_at: str | None = None
    for n, sig in enumerate(signatures, start=1):
        label = f"signature {n} ({sig.field_name})"
        try:
            status = validate_pdf_signature(
                sig, ValidationContext(trust_roots=[root], allow_fetching=False)
            )
        except Exception as e:  # pyHanko raises many kinds of error on a damaged file
            return invalid(f"{label} cannot be validated: {type(e).__name__}: {e}", n=n)
        signer = status.signing_cert.subject.native.get("common_name")
        at = status.signer_reported_dt.isoformat() if status.signer_reported_dt else None
        if n == 1:
            first_at = at
        names.append(str(signer))
        if not status.intact:
            return invalid(f"{label}: the signed bytes were changed after signing (their "
                           "digest does not match the signature)", signer, at, n)  # fmt: skip
        if not status.valid:
            return invalid(f"{label}: the signature value does not verify with the signer's "
                           "certificate", signer, at, n)  # fmt: skip
        if not status.trusted:
            return invalid(f"{label}: the signer's certificate does not chain to the "
                           "project's trust root", signer, at, n)  # fmt: skip
        if status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
            return invalid(f"{label} does not cover its whole revision", signer, at, n)
        level = status.modification_level
        if not status.docmdp_ok or (level is not None and level > ModificationLevel.FORM_FILLING):
            what = level.name.lower() if level is not None else "unknown"
            return invalid(f"{label}: the document was changed by an incremental update after "
                           f"signing (modification level: {what})", signer, at, n)  # fmt: skip
        if not status.bottom_line:
            return invalid(f"{label} does not pass pyHanko's validation", signer, at, n)
        reason = sig.sig_object.get("/Reason")
        if str(reason) != signature_reason(contract_id):
            return invalid(f"{label} was made for {reason!s}, not for contract {contract_id}",
                           signer, at, n)  # fmt: skip
    return SignatureCheck(
        SignatureStatus.VALID, "; ".join(names), first_at,
        f"{len(signatures)} signature(s) intact, valid and trusted; no change after signing",
        len(signatures),
    )  # fmt: skip
