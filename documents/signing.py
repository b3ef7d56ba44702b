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
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from documents.errors import DocumentsError
from documents.pdfs import opened
from graph.model import SignatureStatus

CA_NAME = "ChainLens Contract Test CA"
SIGNER_NAME = "ChainLens Contract Signer"
ORGANISATION = "ChainLens"
FIELD_NAME = "ChainLensSignature"
CA_DAYS = 3650
SIGNER_DAYS = 825
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
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
    signer_key: PrivateKey

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
    pdf: bytes,
    identity: SigningIdentity,
    contract_id: str,
    field_name: str = FIELD_NAME,
    timestamper: Any = None,
) -> bytes:
    """``pdf`` with a PAdES signature by the identity's signer over the whole file, in a
    new signature field ``field_name`` (a countersignature is a second field, appended as an
    incremental update that the first signature's validation accepts). With a pyHanko
    ``timestamper`` the signature carries an RFC 3161 signature timestamp (PAdES B-T),
    otherwise none (B-B)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, reason=signature_reason(contract_id), md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )  # fmt: skip
    out = signers.sign_pdf(writer, meta, signer=identity._pyhanko_signer(), timestamper=timestamper)
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
    with opened(data, BadSignedPdf) as pdf:
        return len(pdf)


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


# ---- parties and the time-stamping authority (issued by the project CA) -------------------
PARTIES_DIR = "parties"
TSA_DIR = "tsa"
TSA_NAME = "ChainLens Time Stamping Authority"
PARTY_DAYS = 825


@dataclass(frozen=True)
class Party:
    """Who signs: ``key`` is stable (`enterprise:<id>`, `funder:<id>`) and goes into the
    certificate's serialNumber, by which verification recognises the party; ``uscc`` goes
    into its organizationIdentifier when the graph has one."""

    key: str
    name: str
    uscc: str | None = None


def _load_ca(folder: Path, passphrase: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    try:
        ca_key = serialization.load_pem_private_key(
            (folder / "ca-key.pem").read_bytes(), passphrase.encode()
        )
        ca = x509.load_pem_x509_certificate((folder / "ca-cert.pem").read_bytes())
    except (OSError, ValueError, TypeError) as e:
        raise DocumentsError(f"the CA in {folder} cannot be read: {e}") from e
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise DocumentsError("the CA's key must be an EC key")
    return ca_key, ca


def _issue(
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    subject: x509.Name,
    *,
    time_stamping: bool = False,
) -> tuple[PrivateKey, x509.Certificate]:
    """A new key and its end-entity certificate issued by the CA: for signing (ECDSA P-256),
    or (with ``time_stamping``) for a TSA, whose certificate RFC 3161 wants with the one
    critical extended key usage timeStamping (RSA 2048: pyHanko's in-process time stamper
    signs with RSA only)."""
    now = dt.datetime.now(dt.UTC)
    key: PrivateKey = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if time_stamping
        else ec.generate_private_key(ec.SECP256R1())
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(ca_cert.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=PARTY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(sign=True, ca=False), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False)
    )  # fmt: skip
    if time_stamping:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
        )
    return key, builder.sign(ca_key, hashes.SHA256())


def _party_name(party: Party) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COMMON_NAME, party.name[:64]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, party.name[:64]),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, party.key[:64]),
    ]
    if party.uscc:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, party.uscc))
    return x509.Name(attrs)


def _write_pair(folder: Path, key: PrivateKey, cert: x509.Certificate, passphrase: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    encryption = serialization.BestAvailableEncryption(passphrase.encode())
    for name, data in (
        ("cert.pem", cert.public_bytes(serialization.Encoding.PEM)),
        ("key.pem", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)),
    ):  # fmt: skip
        fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def _issued_identity(
    folder: Path, passphrase: str, where: Path, subject: x509.Name, *, time_stamping: bool
) -> SigningIdentity:
    """The key and certificate kept in ``where`` (under the CA's ``folder``), issued by the
    CA first when there are none; written in a private folder renamed into place, so that
    two processes agree on one (either would chain to the CA)."""
    SigningIdentity.ensure(folder, passphrase)  # the CA itself
    if not (where / "cert.pem").is_file():
        ca_key, ca = _load_ca(folder, passphrase)
        key, cert = _issue(ca_key, ca, subject, time_stamping=time_stamping)
        tmp = where.with_name(f".{where.name}-{uuid.uuid4().hex}")
        _write_pair(tmp, key, cert, passphrase)
        try:
            os.rename(tmp, where)
        except OSError:  # another process was first
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        key_ = serialization.load_pem_private_key((where / "key.pem").read_bytes(),
                                                  passphrase.encode())  # fmt: skip
        cert_ = x509.load_pem_x509_certificate((where / "cert.pem").read_bytes())
        ca_ = x509.load_pem_x509_certificate((folder / "ca-cert.pem").read_bytes())
    except (OSError, ValueError, TypeError) as e:
        raise DocumentsError(f"the keys in {where} cannot be read: {e}") from e
    if not isinstance(key_, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise DocumentsError(f"the key in {where} must be an EC or RSA key")
    return SigningIdentity(ca_cert=ca_, signer_cert=cert_, signer_key=key_)


def _safe(key: str) -> str:
    import hashlib
    import re

    readable = re.sub(r"[^A-Za-z0-9._-]", "_", key)[:60]
    return f"{readable}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def party_identity(folder: Path, passphrase: str, party: Party) -> SigningIdentity:
    """The party's certificate and key (``folder``/parties/<key>/), issued by the project CA
    on the party's first signature and kept, encrypted with the passphrase."""
    return _issued_identity(folder, passphrase, folder / PARTIES_DIR / _safe(party.key),
                            _party_name(party), time_stamping=False)  # fmt: skip


def tsa_identity(folder: Path, passphrase: str) -> SigningIdentity:
    """The project TSA's certificate and key (``folder``/tsa/), issued by the project CA."""
    subject = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, TSA_NAME),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
    ])  # fmt: skip
    return _issued_identity(folder, passphrase, folder / TSA_DIR, subject, time_stamping=True)


def project_timestamper(tsa: SigningIdentity) -> Any:
    """pyHanko's in-process RFC 3161 time stamper signing with the project TSA's key."""
    from pyhanko.sign.timestamps import DummyTimeStamper

    der = tsa.signer_key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    return DummyTimeStamper(tsa_cert=_asn1_cert(tsa.signer_cert),
                            tsa_key=asn1_keys.PrivateKeyInfo.load(der))  # fmt: skip


def url_timestamper(url: str) -> Any:
    """An RFC 3161 time stamper at ``url`` (a deployment's own TSA)."""
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(url)


@dataclass(frozen=True)
class SignatureReport:
    """One embedded signature as pyHanko's validator found it: the field, the signer (common
    name and the serialNumber that names its party), when (the timestamp's time when there is
    one, else the time the signer states), whether its timestamp token is valid and trusted,
    and whether the signature itself passes, with the reason."""

    field: str
    signer: str | None
    signer_id: str | None
    signed_at: str | None
    timestamped: bool
    timestamp_valid: bool
    valid: bool
    reason: str


def signature_reports(
    data: bytes, trust_roots: list[x509.Certificate], contract_id: str
) -> tuple[list[SignatureReport], str | None]:
    """Every signature of ``data`` validated by pyHanko against ``trust_roots`` (signer and
    timestamp alike), in signing order; the second value says why none could be read."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = list(reader.embedded_signatures)
    except (PdfError, ValueError, KeyError, TypeError) as e:
        return [], f"the signatures cannot be read: {e}"
    if not signatures:
        return [], "the PDF carries no signature"
    roots = [_asn1_cert(c) for c in trust_roots]
    out: list[SignatureReport] = []
    for n, sig in enumerate(signatures, start=1):
        label = f"signature {n} ({sig.field_name})"

        def report(valid: bool, reason: str, field: str = str(sig.field_name),
                   **kw: Any) -> SignatureReport:  # fmt: skip
            base: dict[str, Any] = {"signer": None, "signer_id": None, "signed_at": None,
                                    "timestamped": False, "timestamp_valid": False}  # fmt: skip
            return SignatureReport(field=field, valid=valid, reason=reason, **{**base, **kw})

        try:
            status = validate_pdf_signature(
                sig,
                signer_validation_context=ValidationContext(trust_roots=roots,
                                                            allow_fetching=False),
                ts_validation_context=ValidationContext(trust_roots=roots, allow_fetching=False),
            )  # fmt: skip
        except Exception as e:  # pyHanko raises many kinds of error on a damaged file
            out.append(report(False, f"{label} cannot be validated: {type(e).__name__}: {e}"))
            continue
        subject = status.signing_cert.subject.native
        ts = status.timestamp_validity
        ts_ok = ts is not None and bool(ts.intact and ts.valid and ts.trusted)
        when = ts.timestamp if ts is not None else status.signer_reported_dt
        who = {"signer": subject.get("common_name"), "signer_id": subject.get("serial_number"),
               "signed_at": when.isoformat() if when else None,
               "timestamped": ts is not None, "timestamp_valid": ts_ok}  # fmt: skip
        level = status.modification_level
        problem = None
        if not status.intact:
            problem = ("the signed bytes were changed after signing (their digest does not "
                       "match the signature)")  # fmt: skip
        elif not status.valid:
            problem = "the signature value does not verify with the signer's certificate"
        elif not status.trusted:
            problem = "the signer's certificate does not chain to the project's trust root"
        elif status.coverage is None or status.coverage < SignatureCoverageLevel.ENTIRE_REVISION:
            problem = "it does not cover its whole revision"
        elif not status.docmdp_ok or (level is not None
                                      and level > ModificationLevel.FORM_FILLING):  # fmt: skip
            what = level.name.lower() if level is not None else "unknown"
            problem = ("the document was changed by an incremental update after signing "
                       f"(modification level: {what})")  # fmt: skip
        elif ts is not None and not ts_ok:
            problem = "its timestamp token is not valid or not from a trusted TSA"
        elif not status.bottom_line:
            problem = "it does not pass pyHanko's validation"
        elif str(sig.sig_object.get("/Reason")) != signature_reason(contract_id):
            problem = f"it was made for {sig.sig_object.get('/Reason')!s}, not for {contract_id}"
        if problem is not None:
            out.append(report(False, f"{label}: {problem}", **who))
        else:
            out.append(report(True, f"{label}: intact, valid and trusted"
                              + (", timestamped" if ts_ok else ""), **who))  # fmt: skip
    return out, None
