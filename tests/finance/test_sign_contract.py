"""`finance.lifecycle.sign_contract` records the signed contract the front door verified
(docs/documents.md#financing-contracts): its document id and SHA-256 on the financing, and
only while that contract is still the financing's newest with that hash."""

from __future__ import annotations

import pytest
from neo4j import Driver

from finance import lifecycle
from finance.errors import InvalidState
from finance.lifecycle import AppStatus, FinStatus
from graph.queries.financing_contracts import create_contract_document
from tests.finance.test_lifecycle import D0, _app, _setup


def _contract(db: Driver, database: str, doc_id: str, fin: str, sha: str, at: str) -> None:
    stored = create_contract_document(db, database, {
        "id": doc_id, "kind": "financing_contract", "financing_id": fin, "file_hash": sha,
        "generated_at": at,
    })  # fmt: skip
    assert stored is not None


def test_sign_contract_records_the_newest_contract_and_refuses_another(
    db: Driver, database: str
) -> None:
    _setup(db, database, [("INV-S", 100_000_000)])
    app = lifecycle.submit_application(db, database, _app("A-S", "INV-S", 50_000_000), D0)
    assert app.status == AppStatus.APPROVED and app.financing_id, app.reasons
    fin = app.financing_id
    _contract(db, database, "DOC-OLD", fin, "a" * 64, "2026-01-05T09:00:00.000+00:00")
    _contract(db, database, "DOC-NEW", fin, "b" * 64, "2026-01-05T10:00:00.000+00:00")
    for stale in (("DOC-OLD", "a" * 64), ("DOC-NEW", "a" * 64), ("DOC-NOPE", "b" * 64)):
        with pytest.raises(InvalidState, match="changed after it was verified"):
            lifecycle.sign_contract(db, database, fin, "CT-S", D0, contract=stale)
    before = lifecycle.get_financing(db, database, fin)
    assert (before.status, before.contract_sha256) == (FinStatus.APPROVED, None)

    got = lifecycle.sign_contract(db, database, fin, "CT-S", D0, contract=("DOC-NEW", "b" * 64))
    assert (got.status, got.contract_document_id, got.contract_sha256) == (
        FinStatus.CONTRACTED, "DOC-NEW", "b" * 64)  # fmt: skip
    assert lifecycle.get_financing(db, database, fin) == got
