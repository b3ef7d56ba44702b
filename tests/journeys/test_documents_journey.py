"""Journey: documents given with an application, through HTTP only, on the generated world.

A relationship manager uploads two VAT invoices of a supplier's open invoices
(`POST /api/v1/documents`, read by OCR and checked against the ingested graph): one shows an
amount that is not the graph's (forged), the other is true (verified). She submits a
factoring application on the first invoice with both documents attached; the approval rule
set reads their verification, so the application goes to a person with a reason naming the
forged document, and the verified one is cited too. `Application.documents` lists both; a
document is attached later with `attachDocument`, once; another firm's document is refused.

The true paper of an invoice whose trade never shipped (one the generator plants) agrees with
the graph field by field, but its four flows do not: it is `mismatch` with the four-flow
reason, and the application it is attached to is referred with that reason.

Through GraphQL alone: she uploads the business licence of a generated firm as a multipart
request (`uploadDocument`); it is verified against the ingested graph and an analyst finds it
among the firm's documents (`documents`) and reads it (`document`). A scanned licence whose
business scope names the graph's goods is read whole where the recogniser alone drops or
misreads a character.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter

from PIL import Image

from documents.fields import clean
from documents.synth import damage, make_invoice, render_invoice, render_licence
from tests.journeys.conftest import Api, World

GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) { id } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons decisions { reasons }
  documents { id kind outcome reasons invoiceId attachedBy } } }"""
APPLICATION = """query($id: ID!) { application(id: $id) { id documents { id outcome } } }"""
ATTACH = """mutation($a: ID!, $d: ID!) { attachDocument(applicationId: $a, documentId: $d) {
  id outcome attachedBy } }"""
UPLOAD = """mutation($file: Upload!, $e: ID) { uploadDocument(file: $file, enterpriseId: $e) {
  id kind outcome reasons enterpriseId fields { name value needsReview } } }"""
LIST = """query($e: ID!) { documents(enterpriseId: $e, kind: "licence") {
  id kind outcome uploadedBy } }"""
READ = """query($id: ID!) { document(id: $id) { id outcome reasons enterpriseId mediaType } }"""


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


def _reps(world: World) -> dict[str, str]:
    persons = {p["id"]: p["name"] for p in world.rows("persons")}
    return {r["enterprise_id"]: persons[r["person_id"]] for r in world.rows("roles")
            if r["kind"] == "legal_representative"}  # fmt: skip


def _licensable(world: World) -> list[dict[str, str]]:
    """Limited companies with a USCC, a legal representative and a capital in whole 万元
    (the licence prints 人民币N万元)."""
    reps = _reps(world)
    return [e for e in world.rows("enterprises")
            if e["id"] in reps and e["legal_form"] == "有限责任公司" and e["uscc"]
            and int(e["registered_capital"]) % 1_000_000 == 0]  # fmt: skip


def _licence(world: World, firm: dict[str, str], scope: str = "") -> Image.Image:
    """The firm's true licence as the graph knows it, with ``scope`` as its business scope."""
    addresses = {a["id"]: a["text"] for a in world.rows("addresses")}
    return render_licence({
        "name": firm["name"], "uscc": firm["uscc"], "legal_form": firm["legal_form"],
        "legal_rep": _reps(world)[firm["id"]], "founded_on": firm["founded_on"],
        "registered_capital": str(int(firm["registered_capital"]) // 100),
        "address": addresses.get(firm["address_id"], "北京市朝阳区建国路1号"),
        "business_scope": scope,
    })  # fmt: skip


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


def test_a_licence_uploaded_through_graphql_is_verified_and_listed(api: Api, world: World) -> None:
    # The last licensable firm, which the other journeys leave alone.
    firm = _licensable(world)[-1]
    page = _licence(world, firm)
    buf = io.BytesIO()
    page.save(buf, "PNG")
    operations = {"query": UPLOAD, "variables": {"e": firm["id"], "file": None}}
    r = api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("licence.png", buf.getvalue(), "image/png")},
        headers={"Authorization": f"Bearer {api.token('rita')}"},
    )  # fmt: skip
    assert r.status_code == 200 and not r.json().get("errors"), r.text
    doc = r.json()["data"]["uploadDocument"]
    assert (doc["kind"], doc["outcome"], doc["reasons"], doc["enterpriseId"]) == (
        "licence", "verified", [], firm["id"]), doc  # fmt: skip
    assert {f["name"]: f["value"] for f in doc["fields"]}["uscc"] == firm["uscc"]

    listed = api.gql("anna", LIST, e=firm["id"])["documents"]
    assert listed[0] == {"id": doc["id"], "kind": "licence", "outcome": "verified",
                         "uploadedBy": "rita"}  # fmt: skip
    read = api.gql("anna", READ, id=doc["id"])["document"]
    assert read == {"id": doc["id"], "outcome": "verified", "reasons": [],
                    "enterpriseId": firm["id"], "mediaType": "image/png"}  # fmt: skip


def test_a_scanned_licence_reads_the_graphs_goods_the_recogniser_cannot(
    api: Api, world: World
) -> None:
    """A scan of a licence whose business scope names a good of the ingested graph with a
    character RapidOCR does not read (牛胴体 comes out 牛体, 钢坯 钢坏): the doubt at that place
    is settled by the graph's goods (`documents.lexicon`), so the scope is read whole and
    accepted over `POST /api/v1/documents`."""
    goods = {g["name"] for g in world.rows("goods")}
    rare = sorted(goods & {"牛胴体", "钢坯"})
    assert rare, "the generated world has neither good"
    # The documents stay on the firm: a true licence (verified) of a firm that trades on no
    # invoice, so that no other journey's decision reads them.
    trading = {i[k] for i in world.rows("invoices") for k in ("seller_id", "buyer_id")}
    addresses = {a["id"] for a in world.rows("addresses")}
    firm = next(e for e in _licensable(world)
                if e["id"] not in trading and e["address_id"] in addresses)  # fmt: skip
    for i, good in enumerate(rare):
        scope = (f"{good}的制造、加工和销售；技术服务、技术开发；货物进出口。"
                 "（依法须经批准的项目，经相关部门批准后方可开展经营活动）")  # fmt: skip
        page = _licence(world, firm, scope)
        scan, _ = damage(page, random.Random(40 + i))  # turned, blurred, JPEG 60
        r = api.client.post(
            "/api/v1/documents", content=scan, params={"kind": "licence"},
            headers={"Authorization": f"Bearer {api.token('rita')}"},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert (r.json()["outcome"], r.json()["enterprise_id"]) == ("verified", firm["id"]), r.text
        got = r.json()["fields"]["business_scope"]
        assert (got["value"], got["needs_review"]) == (clean(scope), False), got


def test_an_invoice_without_goods_fails_its_four_flows_and_the_decision_says_so(
    api: Api, world: World
) -> None:
    """A true paper of a graph invoice whose trade never shipped (the generator's planted
    unmatched invoices): its fields agree with the graph, its four flows do not, so it is
    `mismatch` with the four-flow reason, and the approval rules refer the application it is
    attached to, naming it."""
    cores = {e["id"] for e in world.rows("enterprises") if e.get("is_core") in ("true", "1")}
    pledged = {p["collateral_id"] for p in world.rows("pledges")}
    shipped = {s["invoice_id"] for s in world.rows("shipments")}
    bare = [i for i in world.rows("invoices")
            if i["status"] == "overdue" and i["contract_id"] and i["id"] not in shipped
            and i["id"] not in pledged and i["seller_id"] not in cores]  # fmt: skip
    inv = bare[-1]
    seller = inv["seller_id"]
    api.gql("ada", GRANT, input={"id": f"L-4F-{seller}", "enterpriseId": seller,
                                 "kind": "enterprise", "limit": 1_000_000_000,
                                 "currency": "CNY", "expiresOn": "2030-12-31"})  # fmt: skip

    doc = _upload(api, _page(world, inv, random.Random(26)), inv["id"])
    flow = (f"mismatch: four flows of invoice {inv['id']}: the goods flow is missing "
            "(no shipment delivers the invoice)")  # fmt: skip
    assert (doc["outcome"], doc["reasons"]) == ("mismatch", [flow]), doc
    read = api.gql("anna", READ, id=doc["id"])["document"]
    assert (read["outcome"], read["reasons"]) == ("mismatch", [flow])

    app = api.gql("rita", SUBMIT, input={
        "id": f"DOC-4F-{seller}", "enterpriseId": seller, "productId": "factoring_recourse",
        "amount": 1_000_000, "currency": "CNY", "collateralIds": [inv["id"]],
        "documentIds": [doc["id"]],
    })["submitApplication"]  # fmt: skip
    assert app["status"] != "approved", app
    said = (f"attached document {doc['id']} (invoice {inv['id']}) failed verification: "
            f"{flow}")  # fmt: skip
    assert said in app["reasons"] and said in app["decisions"][0]["reasons"], app
    assert [(d["id"], d["outcome"], d["reasons"]) for d in app["documents"]] == [
        (doc["id"], "mismatch", [flow])]  # fmt: skip
