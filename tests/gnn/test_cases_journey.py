"""A bank's cases, end to end through the front door: `chainlens generate --cases` writes a
world and its cases file, `chainlens ingest` loads the world, `chainlens train --cases` loads
the cases and trains on the graph in Neo4j, `chainlens model promote` makes the candidate
score, `chainlens score` writes scores that GraphQL shows with their model version; an
analyst's disposition recorded through GraphQL (audited, role-checked, with its history) is
read by the next `chainlens train --from-graph`; an admin starts the next training through
GraphQL (`startTrainingJob`), follows it (`trainingJobProgress`, `trainingJob`) and gets the
version it registered with its model card, the latest disposition counted in its cases.

A small world (300 firms) and few epochs keep it to a couple of minutes.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from neo4j import Driver

from chainlens.settings import Settings
from graph.maintenance import clear_database
from tests.api.conftest import api_settings, api_url  # noqa: F401  (the served app)
from tests.api.serving import serve
from tests.journeys.conftest import PASSWORD, Api, cli
from tests.notifications import unknown_names

RECORD = """mutation($input: DispositionInput!) { recordDisposition(input: $input) {
  id enterpriseId outcome decidedOn source disposition note
  history { seq disposition outcome note by at } } }"""
SCORE = """query($id: ID!) { riskScore(id: $id) { enterpriseId fraudScore modelVersion } }"""
CASES = """query($id: ID!) { cases(enterpriseId: $id) { id outcome history { seq by } } }"""
AUDIT = """{ auditEvents(kind: "graphql", first: 50) { edges { node {
  username operation fields decision } } } }"""
FAST = ("--epochs", "15", "--tree-rounds", "30")
JOB_FIELDS = """id status stage fraction messages requestedBy source options error modelVersion
  modelCard report cutoff caseCounts chosen casesLoaded casesRejected"""
START = f"""mutation($cases: TrainingCasesInput!, $options: TrainingOptionsInput) {{
  startTrainingJob(cases: $cases, options: $options) {{ {JOB_FIELDS} }} }}"""
JOB = f"""query($id: ID!) {{ trainingJob(id: $id) {{ {JOB_FIELDS} }} }}"""
PROGRESS = """subscription($id: ID!) { trainingJobProgress(id: $id) {
  id status stage fraction } }"""


def _meta(state: Path) -> list[dict[str, Any]]:
    return sorted((json.loads(p.read_text()) for p in (state / "models").glob("v*/meta.json")),
                  key=lambda m: m["created_at"])  # fmt: skip


def _finished(api: Api, job_id: str, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.gql("ada", JOB, id=job_id)["trainingJob"]
        if job["status"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(1)


def test_cases_train_promote_score_and_a_disposition_feeds_the_next_training(
    driver: Driver, database: str, neo4j_settings: Settings, api_url: str,  # noqa: F811
    api_settings: Settings, tmp_path: Path,  # noqa: F811
) -> None:  # fmt: skip
    state = tmp_path / "state"
    env = {
        **os.environ, "CHAINLENS_STATE_DIR": str(state),
        "NEO4J_URI": neo4j_settings.effective_neo4j_uri(),
        "NEO4J_PASSWORD": neo4j_settings.effective_neo4j_password().get_secret_value(),
    }  # fmt: skip
    world = tmp_path / "world"
    cli(env, "generate", "--enterprises", "300", "--seed", "11", "--out", str(world), "--cases")
    cases_file = world / "cases" / "cases.csv"
    with cases_file.open(encoding="utf-8") as f:
        cases = list(csv.DictReader(f))
    clear_database(driver, database)
    cli(env, "db", "init")
    cli(env, "ingest", str(world))
    for name, role in (("anna", "analyst"), ("ada", "admin"), ("rita", "relationship_manager")):
        cli(env, "users", "add", name, "--role", role, stdin=f"{PASSWORD}\n{PASSWORD}\n")

    # Train on the bank's cases: every figure and baseline in the same run.
    out = cli(env, "train", "--cases", str(cases_file), *FAST)
    for shown in ("PR-AUC", "base rate", "P@budget", "hard-neg FP", "recall ring",
                  "GNN (hetero edge-SAGE)", "control: GNN, edges shuffled",
                  "trees + 1/2-hop aggregates", "control: amount-only", "control: degree-only",
                  "rules (red flags)"):  # fmt: skip
        assert shown in out, shown
    (first,) = _meta(state)
    version = first["version"]
    assert first["trained_on"] == "cases" and first["requires_promotion"]
    assert sum(first["outcomes"].values()) == len(cases)
    card = (state / "models" / version / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert first["data_hash"] in card and "sales_n" in card

    # A candidate does not score until an admin promotes it.
    refused = subprocess.run([sys.executable, "-m", "cli.main", "score"], env=env,
                             capture_output=True, text=True, timeout=600)  # fmt: skip
    assert refused.returncode != 0 and "promot" in refused.stderr + refused.stdout
    cli(env, "model", "promote", version, "--note", "journey")
    cli(env, "score")
    # `evaluate` puts the version that scores beside the fresh fits, and registers nothing.
    evaluated = cli(env, "evaluate", *FAST)
    assert f"registered {version}" in evaluated and len(_meta(state)) == 1

    labelled = {c["enterprise_id"] for c in cases}
    with (world / "data" / "enterprises.csv").open(encoding="utf-8") as f:
        firm = next(r["id"] for r in csv.DictReader(f) if r["id"] not in labelled)
    with httpx.Client(base_url=api_url, timeout=60) as client, unknown_names() as names:
        api = Api(client)
        score = api.gql("anna", SCORE, id=firm)["riskScore"]
        assert score["modelVersion"] == version and 0 <= score["fraudScore"] <= 1

        # An analyst's dispositions: appended, each with who and when.
        first_case = api.gql("anna", RECORD, input={
            "enterpriseId": firm, "disposition": "UNDER_REVIEW", "note": "odd invoices"})
        assert first_case["recordDisposition"]["outcome"] is None
        case = api.gql("anna", RECORD, input={
            "enterpriseId": firm, "disposition": "CONFIRMED", "typology": "shell",
            "note": "same phone as four others"})["recordDisposition"]  # fmt: skip
        assert case["id"] == f"enterprise:{firm}" and case["outcome"] == "shell"
        assert case["source"] == "analyst" and case["decidedOn"]
        assert [(h["seq"], h["disposition"], h["by"]) for h in case["history"]] == [
            (1, "under_review", "anna"), (2, "confirmed", "anna")]
        assert case["history"][0]["note"] == "odd invoices"
        bad = api.error("anna", RECORD, input={
            "enterpriseId": firm, "disposition": "CONFIRMED", "typology": "laundering"})
        assert "laundering" in bad.message
        denied = api.error("rita", RECORD, input={
            "enterpriseId": firm, "disposition": "FALSE_POSITIVE"})
        assert denied.code == "FORBIDDEN"
        seen = api.gql("ada", CASES, id=firm)["cases"]
        assert [len(c["history"]) for c in seen] == [2]
        events = [e["node"] for e in api.gql("ada", AUDIT)["auditEvents"]["edges"]]
        audited = {(e["username"], e["decision"]) for e in events
                   if e["fields"] == ["recordDisposition"]}  # fmt: skip
        assert {("anna", "allowed"), ("rita", "denied")} <= audited
    assert names.seen == [], names.seen

    # The next training reads the disposition: the newest decision, so it is held out.
    cli(env, "train", "--from-graph", *FAST)
    second = _meta(state)[-1]
    assert second["version"] != version
    assert second["outcomes"]["shell"] == first["outcomes"].get("shell", 0) + 1
    fraud_before, fraud_after = first["case_counts"]["fraud"], second["case_counts"]["fraud"]
    assert fraud_after["test_positive"] == fraud_before["test_positive"] + 1
    assert second["data_hash"] != first["data_hash"]

    # The next training through GraphQL: an admin's job on this state folder's registry.
    cleared_firm = next(r for r in _enterprise_ids(world) if r not in labelled and r != firm)
    with serve(api_settings.model_copy(update={"state_dir": state}), driver) as url, \
            httpx.Client(base_url=url, timeout=60) as client:  # fmt: skip
        api = Api(client)
        cleared = api.gql("anna", RECORD, input={
            "enterpriseId": cleared_firm, "disposition": "FALSE_POSITIVE",
            "note": "a shared address, nothing else"})["recordDisposition"]  # fmt: skip
        assert cleared["outcome"] == "cleared"
        options = {"epochs": 15, "treeRounds": 30}
        assert api.error("anna", START, cases={"source": "GRAPH"}).code == "FORBIDDEN"
        assert api.error("ada", START, cases={"source": "FILE"}).code == "BAD_REQUEST"
        assert api.error("ada", START, cases={"source": "GRAPH"},
                         options={"epochs": 0}).code == "BAD_REQUEST"  # fmt: skip
        job = api.gql("ada", START, cases={"source": "GRAPH"}, options=options)
        job = job["startTrainingJob"]
        assert job["status"] in ("queued", "running") and job["requestedBy"] == "ada"
        assert json.loads(job["options"])["epochs"] == 15
        # One job at a time.
        busy = api.error("ada", START, cases={"source": "GRAPH"}, options=options)
        assert busy.code == "CONFLICT" and job["id"] in busy.message
        # Progress is pushed on the subscription, and readable by polling.
        with api.subscribe("ada", PROGRESS, id=job["id"]) as pushed:
            seen = [pushed()["trainingJobProgress"], pushed()["trainingJobProgress"]]
        assert all(p["id"] == job["id"] for p in seen)
        assert seen[1]["fraction"] >= seen[0]["fraction"]
        done = _finished(api, job["id"])
        assert done["status"] == "succeeded", done
        assert done["fraction"] == 1.0 and done["stage"] == "done" and done["error"] is None
        steps = " ".join(done["messages"])
        for stage in ("exporting the graph", "fraud: GNN", "fraud: trees + 1/2-hop aggregates",
                      "registering the candidate version", "registered candidate"):  # fmt: skip
            assert stage in steps, stage
        assert "PR-AUC" in done["report"] and "control: GNN, edges shuffled" in done["report"]
        # The version it registered is in the registry, with its model card, as a candidate.
        third = _meta(state)[-1]
        assert third["version"] == done["modelVersion"] != second["version"]
        assert third["requires_promotion"] and third["trained_on"] == "cases"
        card = (state / "models" / third["version"] / "MODEL_CARD.md").read_text("utf-8")
        assert done["modelCard"] == card and third["data_hash"] in card
        # The disposition is one of its cases: the newest decision, held out as a false alert.
        assert third["outcomes"]["cleared"] == second["outcomes"].get("cleared", 0) + 1
        assert third["outcomes"]["shell"] == second["outcomes"]["shell"]
        assert cleared["decidedOn"] > done["cutoff"] == third["cutoff"]
        counts = json.loads(done["caseCounts"])
        assert counts == third["case_counts"] and counts["fraud"]["test_cleared"] >= 1
        assert f"test_cleared {counts['fraud']['test_cleared']}" in card
        # A job's cases file is validated as the CLI's: a file without its columns fails the
        # job before any training, with the reason; the next job may start at once.
        bad = api.gql("ada", START, cases={"source": "FILE", "csv": "who,what\nx,y\n"},
                      options=options)["startTrainingJob"]  # fmt: skip
        failed = _finished(api, bad["id"])
        assert failed["status"] == "failed" and failed["modelVersion"] is None
        assert "cases.csv" in failed["error"], failed
        assert len(_meta(state)) == 3
        assert api.error("ada", JOB, id="train-nope").code == "NOT_FOUND"


def _enterprise_ids(world: Path) -> list[str]:
    with (world / "data" / "enterprises.csv").open(encoding="utf-8") as f:
        return [r["id"] for r in csv.DictReader(f)]
