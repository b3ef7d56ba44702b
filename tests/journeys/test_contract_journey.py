"""A financing's contract, generated, signed by both parties and required by `signContract`,
over HTTP on the journey world (docs/documents.md#financing-contracts).

An approved reverse factoring: signContract is refused (409 CONTRACT_NOT_SIGNED) naming both
parties; the contract is generated; the borrower's own user signs its side; signContract is
still refused, naming the funder; the funder's credit officer signs; financingContract shows
two valid timestamped signatures; signContract succeeds and the financing carries the
contract's SHA-256; the downloaded PDF verifies with pyHanko's validator and a copy with one
byte changed does not. Callers who may not sign a side, another firm's user and another
funder's staff are refused at each step.
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from cryptography import x509

from chainlens.settings import Settings
from documents.signing import signature_reports
from tests.contract_signing import (
    FINANCING_CONTRACT,
    GENERATE_CONTRACT,
    SIGN_CONTRACT,
    SIGN_FOR,
    VERIFY_CONTRACT,
)
from tests.journeys.conftest import PASSWORD, Api, World, cli
from tests.journeys.test_credit_journey import approved_supplier_financing

FUNDER_B = "cj-bank-b"
BORROWER_USER, STRANGER, OFFICER_B = "cj-borrower", "cj-stranger", "cj-officer-b"
BOTH = "cj-rm-and-officer"  # a relationship manager who is also a credit officer
FINANCING = """query($id: ID!) { financing(id: $id) {
  status contractDocumentId contractSha256 } }"""


def _refused(api: Api, user: str, query: str, **variables: Any) -> tuple[int, str, str]:
    r = api.raw(user, query, **variables)
    body = r.json()
    assert body.get("errors") and not any((body.get("data") or {}).values()), body
    error = body["errors"][0]
    return r.status_code, str(error["extensions"]["code"]), str(error["message"])


def _download(api: Api, user: str, financing_id: str) -> httpx.Response:
    return api.client.get(f"/api/v1/financings/{financing_id}/contract.pdf",
                          headers={"Authorization": f"Bearer {api.token(user)}"})  # fmt: skip


def _verify_copy(api: Api, user: str, financing_id: str, pdf: bytes) -> dict[str, Any]:
    operations = {"query": VERIFY_CONTRACT, "variables": {"id": financing_id, "file": None}}
    r = api.client.post(
        "/graphql", headers={"Authorization": f"Bearer {api.token(user)}"},
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("contract.pdf", pdf, "application/pdf")},
    )  # fmt: skip
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    got: dict[str, Any] = body["data"]["verifyFinancingContract"]
    return got


def test_sign_contract_requires_the_contract_signed_by_both_parties(
    api: Api, world: World, cli_env: dict[str, str], api_settings: Settings
) -> None:
    borrower, fin, _amount = approved_supplier_financing(api, world, "CJ-APP")
    stranger = next(e["id"] for e in world.rows("enterprises") if e["id"] != borrower)
    cli(cli_env, "users", "add-funder", FUNDER_B, "--name", "CJ Bank B", "--kind", "bank")
    for user, role, binding in (
        (BORROWER_USER, "relationship_manager", ("--enterprise", borrower)),
        (STRANGER, "relationship_manager", ("--enterprise", stranger)),
        (OFFICER_B, "credit_officer", ("--funder", FUNDER_B)),
        (BOTH, "relationship_manager", ("--role", "credit_officer")),
    ):
        cli(cli_env, "users", "add", user, "--role", role, *binding,
            stdin=f"{PASSWORD}\n{PASSWORD}\n")  # fmt: skip

    # No contract yet: signContract is refused, naming both parties, and nothing changes.
    status, code, message = _refused(api, "otto", SIGN_CONTRACT, id=fin, no="CT-CJ")
    assert (status, code) == (409, "CONTRACT_NOT_SIGNED"), message
    assert "the borrower and the funder" in message and fin in message, message
    assert api.gql("otto", FINANCING_CONTRACT, id=fin)["financingContract"] is None
    assert api.gql("otto", FINANCING, id=fin)["financing"]["status"] == "approved"

    # One user never signs both sides: having signed the borrower's (on mandate), the same
    # person may not sign the funder's, though a credit officer.
    first = api.gql(BOTH, GENERATE_CONTRACT, id=fin)["generateFinancingContract"]
    assert api.gql(BOTH, SIGN_FOR, id=fin, party="BORROWER")["signFinancingContract"][
        "borrowerSignedBy"] == BOTH  # fmt: skip
    status, code, message = _refused(api, BOTH, SIGN_FOR, id=fin, party="FUNDER")
    assert code == "FORBIDDEN" and "someone else" in message, message
    assert _refused(api, "ada", SIGN_FOR, id=fin, party="FUNDER")[1] == "FORBIDDEN"  # admin

    # Generated again from the product's templates: the newest contract is the financing's,
    # and nobody has signed it.
    generated = api.gql("rita", GENERATE_CONTRACT, id=fin)["generateFinancingContract"]
    assert generated["documentId"] != first["documentId"]
    assert "financing_agreement@1" in generated["templates"], generated
    assert generated["verification"]["missingParties"] == ["borrower", "funder"]
    assert _refused(api, OFFICER_B, GENERATE_CONTRACT, id=fin)[1] == "NOT_FOUND"
    assert _refused(api, BORROWER_USER, GENERATE_CONTRACT, id=fin)[1] == "FORBIDDEN"
    status, code, message = _refused(api, "otto", SIGN_CONTRACT, id=fin, no="CT-CJ")
    assert (status, code) == (409, "CONTRACT_NOT_SIGNED"), message
    assert "not signed yet by the borrower" in message and "and the funder" in message, message

    # The borrower's side: not by a credit officer, another firm's user, another funder's
    # staff or an analyst; the borrower's own user may not sign the funder's side.
    for user, refusal in (("otto", "FORBIDDEN"), (STRANGER, "NOT_FOUND"),
                          (OFFICER_B, "NOT_FOUND"), ("anna", "FORBIDDEN")):  # fmt: skip
        got = _refused(api, user, SIGN_FOR, id=fin, party="BORROWER")
        assert got[1] == refusal, (user, got)
    assert _refused(api, BORROWER_USER, SIGN_FOR, id=fin, party="FUNDER")[1] == "FORBIDDEN"
    half = api.gql(BORROWER_USER, SIGN_FOR, id=fin, party="BORROWER")["signFinancingContract"]
    assert half["verification"]["signedParties"] == ["borrower"], half
    assert half["borrowerSignedBy"] == BORROWER_USER and half["funderSignedBy"] is None
    status, code, message = _refused(api, "otto", SIGN_CONTRACT, id=fin, no="CT-CJ")
    assert (status, code) == (409, "CONTRACT_NOT_SIGNED"), message
    assert "not signed yet by the funder" in message and "borrower" not in message, message

    # The funder's side: a credit officer of the financing's funder, nobody else.
    for user, refusal in (("rita", "FORBIDDEN"), (OFFICER_B, "NOT_FOUND"),
                          (STRANGER, "NOT_FOUND")):  # fmt: skip
        got = _refused(api, user, SIGN_FOR, id=fin, party="FUNDER")
        assert got[1] == refusal, (user, got)
    both = api.gql("otto", SIGN_FOR, id=fin, party="FUNDER")["signFinancingContract"]
    assert both["verification"]["complete"], both

    # Two valid, timestamped signatures, one per party in its own field; the borrower's user
    # and an analyst read it, another firm's user and another funder's staff do not.
    contract = api.gql("anna", FINANCING_CONTRACT, id=fin)["financingContract"]
    assert api.gql(BORROWER_USER, FINANCING_CONTRACT, id=fin)["financingContract"] == contract
    for user in (STRANGER, OFFICER_B):
        assert _refused(api, user, FINANCING_CONTRACT, id=fin)[1] == "NOT_FOUND", user
    check = contract["verification"]
    assert (check["valid"], check["complete"], check["missingParties"]) == (True, True, []), check
    sigs = check["signatures"]
    assert [(s["party"], s["field"]) for s in sigs] == [("borrower", "borrower"),
                                                        ("funder", "funder")]  # fmt: skip
    assert all(s["valid"] and s["timestamped"] and s["timestampValid"] and s["signedAt"]
               for s in sigs), sigs  # fmt: skip
    assert sigs[0]["signerId"] == f"enterprise:{borrower}"
    assert sigs[1]["signerId"] == "funder:default"
    assert contract["sha256"] != contract["generatedSha256"]

    # Another funder's credit officer cannot contract it; the funder's can.
    assert _refused(api, OFFICER_B, SIGN_CONTRACT, id=fin, no="CT-CJ")[1] == "NOT_FOUND"
    signed = api.gql("otto", SIGN_CONTRACT, id=fin, no="CT-CJ")["signContract"]
    assert signed["status"] == "contracted", signed
    assert (signed["contractDocumentId"], signed["contractSha256"]) == (
        contract["documentId"], contract["sha256"])  # fmt: skip
    fin_now = api.gql("otto", FINANCING, id=fin)["financing"]
    assert fin_now["contractSha256"] == contract["sha256"], fin_now
    again = _refused(api, "otto", SIGN_CONTRACT, id=fin, no="CT-CJ")
    assert again[1] == "CONFLICT" and "contracted" in again[2], again

    # The PDF: the funder's staff and the borrower's user download it, its bytes are the
    # recorded hash, and pyHanko's validator finds both signatures valid against the
    # project's trust root; another funder's or another firm's user gets 404.
    r = _download(api, "otto", fin)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf", r.text
    pdf = r.content
    assert hashlib.sha256(pdf).hexdigest() == contract["sha256"]
    assert _download(api, BORROWER_USER, fin).content == pdf
    for user in (OFFICER_B, STRANGER):
        assert _download(api, user, fin).status_code == 404, user
    ca = x509.load_pem_x509_certificate(
        (api_settings.effective_signing_dir() / "ca-cert.pem").read_bytes())  # fmt: skip
    # pyHanko's validator runs an event loop of its own (asyncio.run), which a thread that
    # already runs one refuses: Playwright's sync API leaves one in this thread once an
    # earlier browser journey of the session has started it. A worker thread has none.
    def validated(data: bytes) -> list[Any]:
        with ThreadPoolExecutor(1) as pool:
            reports, unreadable = pool.submit(
                signature_reports, data, [ca], contract["documentId"]).result()  # fmt: skip
        assert unreadable is None and len(reports) == 2, (unreadable, reports)
        return reports

    reports = validated(pdf)
    assert all(s.valid and s.timestamp_valid for s in reports), reports

    # A copy with one byte changed inside the signed range fails; the copy as downloaded
    # passes (verifyFinancingContract stores nothing).
    assert _verify_copy(api, BORROWER_USER, fin, pdf) == {
        "documentId": contract["documentId"], "sameAsStored": True,
        "verification": {"valid": True, "complete": True, "missingParties": [],
                         "reason": check["reason"]},
    }  # fmt: skip
    bad = bytearray(pdf)
    bad[bad.index(b"stream", len(pdf) // 3) + 30] ^= 0x01
    tampered = _verify_copy(api, "otto", fin, bytes(bad))
    assert not tampered["sameAsStored"] and not tampered["verification"]["valid"], tampered
    assert "changed after signing" in tampered["verification"]["reason"], tampered
    assert tampered["verification"]["missingParties"] == ["borrower", "funder"]
    # Each signature fails for the change itself, not for a validator that could not run.
    reports = validated(bytes(bad))
    assert not any(s.valid for s in reports), reports
    assert all("changed after signing" in s.reason for s in reports), reports
