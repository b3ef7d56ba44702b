"""Journey: documents given with an application, through HTTP only, on the generated world.

A relationship manager uploads two VAT invoices of a supplier's open invoices
(`POST /api/v1/documents`, read by OCR and checked against the ingested graph): one shows an
amount that is not the graph's (forged), the other is true (verified). She submits a
factoring application on the first invoice with both documents attached; the approval rule
set reads their verification, so the application goes to a person with a reason naming the
forged document, and the verified one is cited too. `Application.documents` lists both; a
document is attached later with `attachDocument`, once; another firm's document is refused.
"""

from __future__ import annotations

import io
import random
from collections import Counter

from documents.synth import make_invoice, render_invoice
from tests.journeys.conftest import Api, World

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons decisions { reasons }
  documents { id kind outcome reasons invoiceId attachedBy } } }"""
APPLICATION = """query($id: ID!) { application(id: $id) { id documents { id outcome } } }"""
ATTACH = """mutation($a: ID!, $d: ID!) { attachDocument(applicationId: $a, documentId: $d) {
  id outcome attachedBy } }"""


def _yuan(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _page(world: World, inv: dict[str, str], r: random.Random, add_minor: int = 0) -> bytes:
    """The invoice's paper as a PNG: the graph's parties, date, tax; the amount plus
    ``add_minor`` (the total agrees with it, so only the graph tells it is wrong)."""
    firms = {e["id"]: e for e in world.rows("enterprises")}
    seller, buyer = firms[inv["seller_id"]], firms[inv["buyer_id"]]
    v = make_invoice(seller, buyer, r)  # a code and number of its own
    amount, tax = int(inv["amount"]) + add_minor, int(inv["tax"])
    v.update(
        issued_on=inv["issued_on"], amount=_yuan(amount), tax=_yuan(tax),
        total=_yuan(amount + tax), tax_rate=f"{round(100 * tax / int(inv['amount']))}%",
    )  # fmt: skip
    buf = io.BytesIO()
    render_invoice(v).save(buf, "PNG")
    return buf.getvalue()


def _upload(api: Api, data: bytes, invoice_id: str) -> dict[str, object]:
    r = api.client.post(
        "/api/v1/documents", content=data, params={"invoice_id": invoice_id},
        headers={"Authorization": f"Bearer {api.token('rita')}"},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    doc: dict[str, object] = r.json()
    return doc


def test_an_application_with_a_forged_and_a_true_invoice_attached(api: Api, world: World) -> None:
    cores = {e["id"] for e in world.rows("enterprises") if e.get("is_core") in ("true", "1")}
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    open_ = [i for i in world.rows("invoices")
             if i["status"] == "issued" and i["id"] not in pledged]  # fmt: skip
    count = Counter(i["seller_id"] for i in open_)
    # A supplier with open invoices the other journeys leave alone (the last ones listed).
    seller = next(s for s in sorted(count, reverse=True) if s not in cores and count[s] >= 3)
    mine = [i for i in open_ if i["seller_id"] == seller]
    offered, other, later = mine[-1], mine[-2], mine[-3]
    api.gql("ada", GRANT, input={"id": f"L-DOC-{seller}", "enterpriseId": seller,
                                 "kind": "enterprise", "limit": 1_000_000_000,
                                 "currency": "CNY", "expiresOn": "2030-12-31"})  # fmt: skip

    r = random.Random(22)
    forged = _upload(api, _page(world, offered, r, add_minor=100_000), offered["id"])
    assert forged["outcome"] == "forged", forged
    assert any("amount reads" in str(x) for x in forged["reasons"]), forged  # type: ignore[attr-defined]
    true = _upload(api, _page(world, other, r), other["id"])
    assert true["outcome"] == "verified", true

    app = api.gql("rita", SUBMIT, input={
        "id": f"DOC-J-{seller}", "enterpriseId": seller, "productId": "factoring_recourse",
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [offered["id"]],
        "documentIds": [forged["id"], true["id"]],
    })["submitApplication"]  # fmt: skip
    assert app["status"] != "approved", app
    failed = [x for x in app["reasons"] if str(forged["id"]) in x]
    assert failed and "failed verification" in failed[0] and "amount reads" in failed[0], app
    assert f"invoice {offered['id']}" in failed[0]
    cited = [x for x in app["reasons"] if str(true["id"]) in x]
    assert cited == [f"attached document {true['id']} (invoice {other['id']}) verified against "
                     "the graph"], app  # fmt: skip
    decided = app["decisions"][0]["reasons"]
    assert failed[0] in decided and cited[0] in decided
    listed = {d["id"]: d for d in app["documents"]}
    assert listed[true["id"]]["outcome"] == "verified"
    assert listed[true["id"]]["invoiceId"] == other["id"]
    assert listed[forged["id"]]["outcome"] == "forged"
    assert {d["attachedBy"] for d in app["documents"]} == {"rita"}

    # Attached later, once however often it is sent; another firm's document is refused.
    third = _upload(api, _page(world, later, r), later["id"])
    for _ in range(2):
        docs = api.gql("otto", ATTACH, a=app["id"], d=third["id"])["attachDocument"]
        assert [d["id"] for d in docs].count(third["id"]) == 1
    read = api.gql("anna", APPLICATION, id=app["id"])["application"]
    assert {d["id"] for d in read["documents"]} == {forged["id"], true["id"], third["id"]}
    stranger = next(i for i in open_ if i["seller_id"] != seller and i["buyer_id"] != seller)
    theirs = _upload(api, _page(world, stranger, r), stranger["id"])
    refused = api.error("otto", ATTACH, a=app["id"], d=theirs["id"])
    assert "does not concern" in refused.message
