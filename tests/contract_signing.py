"""Signing a financing's contract through the front door, as every test that needs a
contracted financing does: since `signContract` requires the newest contract validly signed
by both parties (docs/documents.md#financing-contracts), a financing is contracted by
generating its contract, having the borrower sign it (here a relationship manager of the
funder, on the borrower's mandate), then a credit officer for the funder, and only then
`signContract`. The requests are docs/documents.md's, as written."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _doc_requests() -> list[str]:
    """The GraphQL blocks of docs/documents.md's financing-contracts section, in order."""
    text = (Path(__file__).resolve().parents[1] / "docs" / "documents.md").read_text("utf-8")
    section = text.split("\n## Financing contracts\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.S)


GENERATE_CONTRACT, SIGN_FOR, FINANCING_CONTRACT, SIGN_CONTRACT, VERIFY_CONTRACT = _doc_requests()


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
