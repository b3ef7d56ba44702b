"""Journey 3: a warehouse-receipt pledge over a sensor-monitored asset, through the API, on a
world made by `chainlens generate` and loaded by `chainlens ingest` (see conftest.py).

A credit officer registers a warehouse receipt of a generated enterprise (goods and warehouse
of the same world) and a scale under it; the scale reports the goods coming in (REST
telemetry, as the `service` account); the admin grants the owner its own line; the
relationship manager applies for a warehouse-receipt pledge on the asset, which is approved
(by a credit officer when the policy refers it), contracted and disbursed. Goods then leave
without a release order: a `stock_without_release` alert and a `margin_call` alert about the
financing follow, and the critical alert runs the post-loan rules at once: an
`early_warning` (`critical_alerts_open`) on the financing. A release order is refused while
the financing is live, naming it; after repayment in full the financing is closed, a release
order is accepted, and goods leaving under it raise no new stock alert.

Readings carry event times of the last few hours (the intake takes readings up to
5 minutes ahead and up to its two-day deduplication horizon back), in order, five minutes
apart, so the engine's five-minute ticks see each step. The reading store outlives the
database between runs, so the asset and sensor ids carry a per-run token.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.journeys.conftest import Api, World
from tests.journeys.test_credit_journey import sign_contract

NOW = datetime.now(UTC)
TODAY = NOW.date()
RUN = NOW.strftime("%m%d%H%M%S")
ASSET = f"J3-WR-{RUN}"
SCALE = f"J3-SCALE-{RUN}"
PLEDGED_T = 1_000
UNIT_VALUE = 400_000  # 4,000.00 CNY a tonne: 4,000,000.00 for the lot
# Event time of the first reading: 2.5 hours ago, on a 10-minute boundary (ticks are 5 min).
BASE = (NOW - timedelta(minutes=150)).replace(second=0, microsecond=0)
BASE -= timedelta(minutes=BASE.minute % 10)

REGISTER = """mutation($input: RegisterCollateralInput!) { registerCollateral(input: $input) {
  id kind ownerId goodsId warehouseId quantity unit unitValue currency status sensorIds
  financingIds geofence { lat lon radiusM } tempMin tempMax humidityMax } }"""
SENSOR = """mutation($input: RegisterSensorInput!) { registerSensor(input: $input) {
  id kind assetId warehouseId intervalS } }"""
LIMITS = """mutation($id: ID!, $fence: GeofenceInput, $tmin: Float, $tmax: Float, $hmax: Float) {
  setCollateralLimits(assetId: $id, geofence: $fence, tempMin: $tmin, tempMax: $tmax,
                      humidityMax: $hmax) {
    id geofence { lat lon radiusM } tempMin tempMax humidityMax } }"""
RELEASE = """mutation($id: ID!, $asset: ID!, $qty: Decimal!, $from: DateTime!, $to: DateTime!) {
  issueReleaseOrder(id: $id, assetId: $asset, quantity: $qty, validFrom: $from, validTo: $to) {
    id assetId quantity validFrom validTo } }"""
REVALUE = """mutation($id: ID!, $price: BigInt!) {
  revalueCollateral(assetId: $id, unitValue: $price) {
  assetId unitValue quantity valueMinor currency marginCalls { financingId ltvBps } } }"""
STATE = """query($id: String!) { assetState(assetId: $id) {
  weightKg measuredQuantity valueMinor currency sensors { sensorId lastSeen } } }"""
GRANT = """mutation($input: GrantCreditLineInput!) { grantCreditLine(input: $input) {
  id kind status available } }"""
SUBMIT = """mutation($input: ApplicationInput!) { submitApplication(input: $input) {
  id status reasons decidedAmount financingId } }"""
REVIEW = """mutation($id: ID!) { reviewApplication(id: $id, approve: true,
  note: "receipt checked at the warehouse") { id status decidedAmount financingId } }"""
FINANCING = """query($id: ID!) { financing(id: $id) {
  id status amount outstanding interestDue borrowerId productKind } }"""
DISBURSE = """mutation($id: ID!, $on: Date!) { disburse(financingId: $id, on: $on) {
  status outstanding } }"""
REPAY = """mutation($id: ID!, $amount: BigInt!, $on: Date!, $req: ID!) {
  repay(financingId: $id, amount: $amount, on: $on, requestId: $req) {
    interestPaid principalPaid fee financing { outstanding interestDue status } } }"""
DEPOSIT = """mutation($e: ID!, $amount: BigInt!, $on: Date!) {
  depositToSettlement(enterpriseId: $e, amount: $amount, requestId: "J3-DEP-1", on: $on) {
    amount balance } }"""
FIN_ALERTS = """query($id: String!) { alerts(financingId: $id, first: 50) {
  edges { node { id kind severity message assetId financingIds evidence } } } }"""
ASSET_ALERTS = """query($id: String!, $kind: String) {
  alerts(assetId: $id, kind: $kind, first: 50) {
  edges { node { id kind financingIds } } } }"""


def weights(api: Api, start: int, kgs: list[float]) -> None:
    """The scale's readings, one every 5 minutes from slot `start` (30 s past each tick)."""
    batch = [
        {
            "sensor_id": SCALE,
            "ts": (BASE + timedelta(minutes=5 * (start + i), seconds=30)).isoformat(),
            "kind": "weight", "value": kg, "unit": "kg", "seq": start + i,
        }
        for i, kg in enumerate(kgs)
    ]  # fmt: skip
    r = api.client.post(
        "/api/v1/telemetry", json=batch,
        headers={"Authorization": f"Bearer {api.token('matcher')}"},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json() == {"accepted": len(batch), "duplicates": 0, "rejected": []}, r.json()


def kinds_of(edges: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in edges:
        out.setdefault(e["node"]["kind"], []).append(e["node"])
    return out


def pick_owner(world: World) -> str:
    """An active core enterprise: no tier, so the pledge's limit is the collateral's."""
    return next(
        e["id"] for e in world.rows("enterprises")
        if e["is_core"] == "true" and e["status"] in ("", "active")
    )  # fmt: skip


def test_a_warehouse_receipt_pledge_watched_by_a_scale(api: Api, world: World) -> None:
    owner = pick_owner(world)
    warehouse = world.rows("warehouses")[0]
    goods = next(g["id"] for g in world.rows("goods") if g["unit"] == "t")
    asset_input = {
        "id": ASSET, "ownerId": owner, "kind": "warehouse_receipt", "goodsId": goods,
        "warehouseId": warehouse["id"], "quantity": str(PLEDGED_T), "unit": "t",
        "unitValue": UNIT_VALUE, "currency": "CNY",
    }  # fmt: skip

    # -- refusals first: bad input and unknown ids write nothing ----------------------------
    def refused(user: str, query: str, code: str, text: str, **variables: Any) -> None:
        e = api.error(user, query, **variables)
        assert e.code == code and text in e.message, (e.code, e.message)

    refused("otto", REGISTER, "NOT_FOUND", "enterprise E-NOBODY does not exist",
            input={**asset_input, "ownerId": "E-NOBODY"})  # fmt: skip
    refused("otto", REGISTER, "NOT_FOUND", "warehouse W-NOWHERE does not exist",
            input={**asset_input, "warehouseId": "W-NOWHERE"})  # fmt: skip
    refused("otto", REGISTER, "NOT_FOUND", "goods G-NOTHING does not exist",
            input={**asset_input, "goodsId": "G-NOTHING"})  # fmt: skip
    refused("otto", REGISTER, "BAD_REQUEST", "quantity must be positive",
            input={**asset_input, "quantity": "0"})  # fmt: skip
    refused("otto", REGISTER, "BAD_REQUEST", "quantity must be positive",
            input={**asset_input, "quantity": "-5"})  # fmt: skip
    refused("otto", REGISTER, "BAD_REQUEST", "kind must be one of",
            input={**asset_input, "kind": "receipt"})  # fmt: skip
    refused("otto", REGISTER, "BAD_REQUEST", "is not an ISO 4217 code",
            input={**asset_input, "currency": "cny"})  # fmt: skip
    refused("otto", REGISTER, "BAD_REQUEST", "unitValue must be positive",
            input={**asset_input, "unitValue": 0})  # fmt: skip
    assert api.error("anna", REGISTER, input=asset_input).code == "FORBIDDEN"
    assert api.error("rita", REGISTER, input=asset_input).code == "FORBIDDEN"
    assert api.error("otto", STATE, id=ASSET).code == "NOT_FOUND"  # nothing was written

    # -- an operator registers the receipt and a scale under it; twice is once ----------------
    got = api.gql("otto", REGISTER, input=asset_input)["registerCollateral"]
    assert (got["id"], got["ownerId"], got["goodsId"], got["warehouseId"]) == (
        ASSET,
        owner,
        goods,
        warehouse["id"],
    )
    assert (got["kind"], got["unit"], got["unitValue"], got["status"]) == (
        "warehouse_receipt",
        "t",
        UNIT_VALUE,
        "active",
    )
    assert float(got["quantity"]) == PLEDGED_T and got["financingIds"] == []
    assert api.gql("ada", REGISTER, input=asset_input)["registerCollateral"] == got
    refused("otto", REGISTER, "CONFLICT", f"asset {ASSET} is owned by {owner}",
            input={**asset_input, "ownerId": next(
                e["id"] for e in world.rows("enterprises") if e["id"] != owner)})  # fmt: skip

    sensor_input = {"id": SCALE, "kind": "scale", "assetId": ASSET, "intervalS": 300}
    refused("otto", SENSOR, "BAD_REQUEST", "kind must be one of",
            input={**sensor_input, "kind": "weighbridge"})  # fmt: skip
    refused("otto", SENSOR, "NOT_FOUND", "asset J3-NONE does not exist",
            input={**sensor_input, "assetId": "J3-NONE"})  # fmt: skip
    scale = api.gql("otto", SENSOR, input=sensor_input)["registerSensor"]
    assert scale == {"id": SCALE, "kind": "scale", "assetId": ASSET,
                     "warehouseId": warehouse["id"], "intervalS": 300}  # fmt: skip
    assert api.gql("otto", SENSOR, input=sensor_input)["registerSensor"] == scale

    # Limits: a geofence around the warehouse and a storage band; bad ones are refused.
    fence = {"lat": float(warehouse["lat"]), "lon": float(warehouse["lon"]), "radiusM": 250.0}
    refused("otto", LIMITS, "BAD_REQUEST", "tempMin 30 must be below tempMax 5",
            id=ASSET, tmin=30.0, tmax=5.0)  # fmt: skip
    refused("otto", LIMITS, "BAD_REQUEST", "geofence lat must be within",
            id=ASSET, fence={**fence, "lat": 91.0})  # fmt: skip
    limits = api.gql("otto", LIMITS, id=ASSET, fence=fence, tmin=-5.0, tmax=30.0, hmax=85.0)
    assert limits["setCollateralLimits"] == {
        "id": ASSET,
        "geofence": fence,
        "tempMin": -5.0,
        "tempMax": 30.0,
        "humidityMax": 85.0,
    }
    # Registering the asset again keeps its limits.
    again = api.gql("otto", REGISTER, input=asset_input)["registerCollateral"]
    assert again["geofence"] == fence and again["humidityMax"] == 85.0

    # -- goods in: the scale goes from empty to the full 1,000 t -----------------------------
    weights(api, 0, [0.0] + [PLEDGED_T * 1000.0] * 8)
    state = api.gql("anna", STATE, id=ASSET)["assetState"]
    assert state["weightKg"] == PLEDGED_T * 1000.0 and float(state["measuredQuantity"]) == PLEDGED_T
    full_value = PLEDGED_T * UNIT_VALUE
    assert (state["valueMinor"], state["currency"]) == (full_value, "CNY")
    assert [s["sensorId"] for s in state["sensors"]] == [SCALE]

    # -- the owner's own line, the application, the financing --------------------------------
    line = api.gql("ada", GRANT, input={
        "id": f"J3-LINE-{owner}", "enterpriseId": owner, "kind": "enterprise",
        "limit": 1_000_000_000, "currency": "CNY",
        "expiresOn": (TODAY + timedelta(days=365)).isoformat(),
    })["grantCreditLine"]  # fmt: skip
    assert (line["status"], line["available"]) == ("active", 1_000_000_000)
    asked = full_value // 2  # 50% of the value: within the 60% advance rate
    app = api.gql("rita", SUBMIT, input={
        "id": "J3-APP", "enterpriseId": owner, "productId": "warehouse_receipt_pledge",
        "amount": asked, "currency": "CNY", "collateralIds": [ASSET],
    })["submitApplication"]  # fmt: skip
    assert app["status"] in ("approved", "referred"), app["reasons"]
    if app["status"] == "referred":
        app = api.gql("otto", REVIEW, id="J3-APP")["reviewApplication"]
        assert app["status"] == "approved", app
    amount, fin_id = app["decidedAmount"], app["financingId"]
    assert amount == asked and fin_id
    fin = api.gql("otto", FINANCING, id=fin_id)["financing"]
    assert (fin["status"], fin["borrowerId"], fin["productKind"]) == (
        "approved",
        owner,
        "warehouse_receipt_pledge",
    )
    assert sign_contract(api, fin_id, "CT-J3")["status"] == "contracted"
    paid_out = api.gql("otto", DISBURSE, id=fin_id, on=TODAY.isoformat())["disburse"]
    assert (paid_out["status"], paid_out["outstanding"]) == ("active", amount)
    pledged = api.gql("otto", REGISTER, input=asset_input)["registerCollateral"]
    assert pledged["financingIds"] == [fin_id]
    # While it backs the financing, the pledged quantity cannot be changed.
    refused("otto", REGISTER, "CONFLICT", f"backs live financing {fin_id}",
            input={**asset_input, "quantity": "10"})  # fmt: skip

    # -- goods leave without a release order: 3/4 of the stock, value 1/4 ----------------------
    left_t = PLEDGED_T // 4
    weights(api, 9, [left_t * 1000.0] * 8)
    alerts = kinds_of(api.gql("otto", FIN_ALERTS, id=fin_id)["alerts"]["edges"])
    assert set(alerts) == {"stock_without_release", "margin_call", "early_warning"}, alerts
    (warning,) = alerts["early_warning"]
    assert "critical_alerts_open" in warning["message"], warning["message"]
    assert warning["financingIds"] == [fin_id]
    (stock,) = alerts["stock_without_release"]
    assert stock["severity"] == "critical" and stock["assetId"] == ASSET
    assert stock["financingIds"] == [fin_id]
    assert stock["evidence"]["drop_kg"] == (PLEDGED_T - left_t) * 1000.0
    assert stock["evidence"]["release_cover_kg"] == 0.0
    (call,) = alerts["margin_call"]
    assert f"margin call on {fin_id}" in call["message"] and ASSET in call["message"]
    # Loan-to-value: amount / (value / 4) = 200% > the product's 70%.
    assert "loan-to-value 200.0% exceeds 70.0%" in call["message"], call["message"]
    state = api.gql("anna", STATE, id=ASSET)["assetState"]
    assert state["valueMinor"] == left_t * UNIT_VALUE
    # The price falls 10%: an operator revalues; finance recomputes LTV and calls again.
    price = UNIT_VALUE * 9 // 10
    revalued = api.gql("otto", REVALUE, id=ASSET, price=price)["revalueCollateral"]
    assert (revalued["valueMinor"], float(revalued["quantity"])) == (left_t * price, left_t)
    assert revalued["marginCalls"] == [
        {"financingId": fin_id, "ltvBps": amount * 10_000 // (left_t * price)}
    ]
    assert api.error("rita", REVALUE, id=ASSET, price=price).code == "FORBIDDEN"

    # -- a release order while the financing is live is refused, naming it ---------------------
    release = {"id": f"J3-RO-{RUN}", "asset": ASSET, "qty": str(PLEDGED_T),
               "from": (BASE + timedelta(minutes=80)).isoformat(),
               "to": (NOW + timedelta(days=1)).isoformat()}  # fmt: skip
    refused("otto", RELEASE, "CONFLICT", f"asset {ASSET} backs live financing {fin_id}",
            **release)  # fmt: skip
    # Bad release orders are refused whatever the financing (and write nothing either).
    refused("otto", RELEASE, "BAD_REQUEST", "validTo", **{**release, "to": release["from"]})
    refused("otto", RELEASE, "BAD_REQUEST", "quantity must be positive", **{**release, "qty": "0"})
    naive = api.error("otto", RELEASE, **{**release, "from": BASE.replace(tzinfo=None).isoformat()})
    assert "has no offset" in naive.message, naive.message

    # -- repayment in full, exactly what is due, from money the owner pays in ------------------
    due = api.gql("otto", FINANCING, id=fin_id)["financing"]
    total = due["outstanding"] + due["interestDue"]
    paid_in = api.gql("otto", DEPOSIT, e=owner, amount=total, on=TODAY.isoformat())
    assert paid_in["depositToSettlement"]["balance"] >= total
    repaid = api.gql("otto", REPAY, id=fin_id, amount=total, on=TODAY.isoformat(),
                     req="J3-PAY-1")["repay"]  # fmt: skip
    assert repaid["principalPaid"] == amount and repaid["interestPaid"] == due["interestDue"]
    assert repaid["financing"]["status"] == "closed"
    assert repaid["financing"]["outstanding"] == 0
    assert api.gql("otto", FINANCING, id=fin_id)["financing"]["status"] == "closed"

    # -- released after repayment: the order is accepted, and twice is once --------------------
    order = api.gql("otto", RELEASE, **release)["issueReleaseOrder"]
    assert (order["id"], order["assetId"], float(order["quantity"])) == (
        release["id"],
        ASSET,
        PLEDGED_T,
    )
    assert api.gql("otto", RELEASE, **release)["issueReleaseOrder"] == order
    refused("otto", RELEASE, "CONFLICT", "exists with other terms", **{**release, "qty": "10"})

    # The rest leaves under the order: it covers the earlier drop and this one.
    weights(api, 17, [left_t * 1000.0] * 2 + [0.0] * 6)
    stock_alerts = api.gql("otto", ASSET_ALERTS, id=ASSET, kind="stock_without_release")
    assert [e["node"]["id"] for e in stock_alerts["alerts"]["edges"]] == [stock["id"]]
    after = kinds_of(api.gql("otto", FIN_ALERTS, id=fin_id)["alerts"]["edges"])
    assert {k: len(v) for k, v in after.items()} == {
        "stock_without_release": 1, "margin_call": 1, "early_warning": 1}
    state = api.gql("anna", STATE, id=ASSET)["assetState"]
    assert state["weightKg"] == 0.0 and state["valueMinor"] == 0

    # -- a price change goes through finance: no live financing, so no margin call ------------
    revalued = api.gql("otto", REVALUE, id=ASSET, price=UNIT_VALUE // 2)["revalueCollateral"]
    assert (revalued["unitValue"], revalued["valueMinor"], revalued["marginCalls"]) == (
        UNIT_VALUE // 2,
        0,
        [],
    )
    refused("otto", REVALUE, "BAD_REQUEST", "unitValue must be positive", id=ASSET, price=-1)
    refused("otto", REVALUE, "NOT_FOUND", "asset J3-NONE does not exist", id="J3-NONE",
            price=1)  # fmt: skip


def test_the_documented_collateral_operations_run(api: Api, world: World) -> None:
    """docs/sensors.md's examples, as written, on the generated world (their ids are the
    seed's); only the release order's end moves to tomorrow, since a past one is refused."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "sensors.md").read_text("utf-8")
    start = text.index("\n## Collateral operations\n")
    part = text[start : text.find("\n## ", start + 1)]
    blocks = [b.split("```", 1)[0] for b in part.split("```graphql\n")[1:]]
    assert len(blocks) == 5
    ids = {"enterprises": "E0000056", "goods": "G-BEEF-FEED", "warehouses": "W00001"}
    for name, known in ids.items():
        assert known in {r["id"] for r in world.rows(name)} and known in blocks[0], name
    tomorrow = (NOW + timedelta(days=1)).isoformat()
    answers = [
        api.gql("otto", re.sub(r'validTo: "[^"]+"', f'validTo: "{tomorrow}"', block))
        for block in blocks
    ]
    asset = answers[0]["registerCollateral"]
    assert (asset["id"], asset["ownerId"], asset["financingIds"]) == ("WR-0042", "E0000056", [])
    assert answers[1]["registerSensor"]["warehouseId"] == "W00001"
    assert answers[2]["setCollateralLimits"]["humidityMax"] == 85.0
    assert answers[3]["issueReleaseOrder"]["validTo"] is not None
    assert answers[4]["revalueCollateral"]["valueMinor"] == 1000 * 360_000
    assert answers[4]["revalueCollateral"]["marginCalls"] == []
