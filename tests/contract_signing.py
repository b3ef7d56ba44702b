"""Signing a financing's contract through the front door, as every test that needs a
contracted financing does: since `signContract` requires the newest contract validly signed
by both parties (docs/documents.md#financing-contracts), a financing is contracted by
generating its contract, having the borrower sign it (here a relationship manager of the
funder, on the borrower's mandate), then a credit officer for the funder, and only then
`signContract`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GENERATE_CONTRACT = """mutation($id: ID!) { generateFinancingContract(financingId: $id) {
  documentId templates sha256 verification { complete missingParties } } }"""
SIGN_FOR = """mutation($id: ID!, $party: ContractPartyName!) {
  signFinancingContract(financingId: $id, party: $party) {
    documentId sha256 borrowerSignedBy funderSignedBy
    verification { valid complete signedParties missingParties reason
      signatures { party field signer signedAt timestamped timestampValid valid } } } }"""
SIGN_CONTRACT = """mutation($id: ID!, $no: String!) {
  signContract(financingId: $id, contractNo: $no) {
    id status contractDocumentId contractSha256 } }"""


def contract_signed(
    call: Callable[..., dict[str, Any]], financing_id: str, *, manager: Any, officer: Any,
    contract_no: str,
) -> dict[str, Any]:  # fmt: skip
    """Generate the financing's contract (``manager``), sign the borrower's side (``manager``,
    hosted) and the funder's (``officer``), then `signContract` (``officer``); its answer.
    ``call(user, query, **variables)`` answers a request's data and fails on an error."""
    call(manager, GENERATE_CONTRACT, id=financing_id)
    call(manager, SIGN_FOR, id=financing_id, party="BORROWER")
    signed = call(officer, SIGN_FOR, id=financing_id, party="FUNDER")["signFinancingContract"]
    assert signed["verification"]["complete"], signed["verification"]
    got: dict[str, Any] = call(officer, SIGN_CONTRACT, id=financing_id,
                               no=contract_no)["signContract"]  # fmt: skip
    assert got["contractSha256"] == signed["sha256"], (got, signed)
    return got
