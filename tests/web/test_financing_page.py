"""A financing's page in headless Chromium (issue #23): its repayment schedule and its
collateral with the live state of the collateral's sensors.

- On the hand-built book (tests/api/portfolio_world.py): P-NORMAL was paid out, accrued and
  partly repaid; the schedule's "Paid out" is its amount, the repayments received sum to
  what no longer is outstanding, and "Due at maturity" is the outstanding principal with at
  least the interest due; its collateral is `financingCollateral`'s.
- A herd of 100 tagged head pledged for a loan (as tests/web/test_alerts_inbox.py): an hour
  of the whole herd in sight arrives through the REST telemetry door; the page then shows
  the herd's live state (head in sight, its sensors reporting), as `financingCollateral`
  says.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from neo4j import Driver
from playwright.sync_api import Page, expect

from api.security import Role, add_user
from tests.api.conftest import PASSWORD
from tests.api.portfolio_world import Book
from tests.api.test_sensors import minutes_ago, reading
from tests.web.conftest import shot
from tests.web.test_alerts_inbox import GATEWAY, OFFICER, _herd_financing, served  # noqa: F401
from tests.web.test_explorer import log_in
from tests.web.test_workbench import OFFICER as BOOK_OFFICER
from tests.web.test_workbench import _gql, book  # noqa: F401

pytestmark = pytest.mark.neo4j

FINANCING = """query($id: ID!) { financing(id: $id) { id amount outstanding interestDue
  startOn maturityOn status } }"""
COLLATERAL = """query($id: ID!) { financingCollateral(financingId: $id) { id label value
  state { headCount status sensors { sensorId } silentSensors } } }"""


def _schedule(page: Page) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = page.evaluate(
        "() => [...document.querySelectorAll('#fin-schedule tbody tr')].map((tr) => ({"
        "what: tr.dataset.what, on: tr.cells[0].textContent,"
        "principal: Number(tr.cells[2].dataset.minor), interest: Number(tr.cells[3].dataset.minor),"
        "total: Number(tr.cells[4].dataset.minor), state: tr.cells[5].textContent }))")  # fmt: skip
    return rows


def test_the_schedule_and_collateral_of_a_paid_out_financing(
    page: Page, web_url: str, book: Book  # noqa: F811
) -> None:
    fid = book.financings["P-NORMAL"]
    log_in(page, web_url, (BOOK_OFFICER, PASSWORD))
    page.evaluate("(h) => { location.hash = h; }", f"#/financing/{fid}")
    expect(page.locator("#fin-schedule tbody tr").first).to_be_visible(timeout=10_000)
    fin = _gql(web_url, FINANCING, id=fid)["financing"]
    rows = _schedule(page)
    assert rows[0]["what"] == "Paid out" and rows[0]["on"] == fin["startOn"]
    assert rows[0]["principal"] == fin["amount"]
    repaid = [r for r in rows if r["what"] == "Repaid"]
    assert repaid and sum(r["principal"] for r in repaid) == fin["amount"] - fin["outstanding"]
    due = rows[-1]
    assert (due["what"], due["on"], due["principal"]) == (
        "Due at maturity", fin["maturityOn"], fin["outstanding"])
    assert due["interest"] >= fin["interestDue"] and due["total"] == due["principal"] + \
        due["interest"]  # fmt: skip
    expect(page.locator("#fin-schedule-note")).to_contain_text("projected")
    items = _gql(web_url, COLLATERAL, id=fid)["financingCollateral"]
    shown = page.locator("#fin-collateral li[data-id]")
    expect(shown).to_have_count(len(items))
    assert shown.evaluate_all("(ls) => ls.map((l) => l.dataset.id)") == [c["id"] for c in items]
    shot(page, "26-financing-schedule")


def test_the_collateral_shows_its_sensors_live_state(
    page: Page, served: str, db: Driver, database: str  # noqa: F811
) -> None:
    financing, tags = _herd_financing(db, database)
    add_user(db, database, OFFICER, PASSWORD, [Role.CREDIT_OFFICER])
    add_user(db, database, GATEWAY, PASSWORD, [Role.SERVICE])
    start = minutes_ago(70)
    batch = [reading(tag, start + timedelta(minutes=10 * i), "presence", -60.0, "dBm", i)
             for i in range(7) for tag in tags]  # fmt: skip
    with httpx.Client(base_url=served, timeout=60) as c:
        tok = c.post("/auth/token", json={"username": GATEWAY, "password": PASSWORD})
        headers = {"Authorization": f"Bearer {tok.json()['access_token']}"}
        answer = c.post("/api/v1/telemetry", json=batch, headers=headers)
        assert answer.status_code == 200 and not answer.json()["rejected"], answer.text
        tok = c.post("/auth/token", json={"username": OFFICER, "password": PASSWORD})
        body = c.post("/graphql", json={"query": COLLATERAL, "variables": {"id": financing}},
                      headers={"Authorization": f"Bearer {tok.json()['access_token']}"})
    items = body.json()["data"]["financingCollateral"]
    herd = next(c for c in items if c["id"] == "HERD-M")
    assert herd["label"] == "Asset" and herd["state"]["headCount"] == 100, herd
    assert len(herd["state"]["sensors"]) == 100 and herd["state"]["silentSensors"] == []

    log_in(page, served, (OFFICER, PASSWORD))
    page.evaluate("(h) => { location.hash = h; }", f"#/financing/{financing}")
    live = page.locator("#fin-collateral li[data-id='HERD-M'] .live-state")
    expect(live).to_contain_text("100 head in sight", timeout=10_000)
    expect(live).to_contain_text("100 sensors reporting")
    # Approved, not yet paid out: the schedule says so.
    expect(page.locator("#fin-schedule tbody tr").first).to_contain_text("not yet paid out")
    shot(page, "27-financing-collateral-live")


