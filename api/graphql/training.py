"""Training jobs over GraphQL, for admins: `startTrainingJob` runs what `chainlens train
--cases/--from-graph` runs (`gnn.jobs.load_and_train`) on a background worker of this API
process, `trainingJob(id)` reports it, `trainingJobProgress(id)` pushes each change.

One job at a time: a start while a job is queued or running is CONFLICT. Jobs are kept in the
memory of the process that runs them; what they register is in the model registry.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import requires
from api.security import Role
from gnn.errors import InvalidInput, ModelNotFound
from gnn.jobs import TrainingJob, TrainingJobs
from gnn.registry import registry_dir

# How often a progress subscription looks at its job (jobs change every few seconds).
WATCH_S = 0.25
# The text of a cases file sent with a request (the API's body limit applies first).
MAX_CASES_CHARS = 20_000_000


@strawberry.enum(name="TrainingCasesSource", description="Which cases a training job uses.")
class CasesSource(Enum):
    # FILE first: a request that names a source without its file is refused before a job
    # starts (the permission matrix's test sends the smallest valid input as every role).
    FILE = "file"
    GRAPH = "graph"


@strawberry.input(description="The cases to train on: a cases file (ingest format, loaded "
                  "into the graph first, as `chainlens train --cases`) or the graph's cases "
                  "(`--from-graph`), analysts' dispositions included.")  # fmt: skip
class TrainingCasesInput:
    source: CasesSource
    csv: str | None = strawberry.field(
        default=None, description="For FILE: the text of the cases file (CSV with its header)."
    )


@strawberry.input(description="Options of `chainlens train --cases`; unset ones keep their "
                  "defaults.")  # fmt: skip
class TrainingOptionsInput:
    epochs: int | None = strawberry.field(default=None, description="GNN epochs (150).")
    tree_rounds: int | None = strawberry.field(default=None, description="Tree rounds (200).")
    test_share: float | None = strawberry.field(
        default=None, description="Share of cases held out, the latest (0.3)."
    )
    budget: int | None = strawberry.field(default=None, description="Firms analysts review.")
    budget_share: float | None = strawberry.field(
        default=None, description="Or this share of the firms (0.01)."
    )
    unlabelled_weight: float | None = strawberry.field(
        default=None, description="Weight of firms without a case (0.1)."
    )


@strawberry.type(name="TrainingJob", description="A training job and how far it got.")
class TrainingJobType:
    id: strawberry.ID
    status: str = strawberry.field(description="queued, running, succeeded or failed.")
    stage: str = strawberry.field(description="What it is doing now.")
    fraction: float = strawberry.field(description="Share of its stages done, 0 to 1.")
    messages: list[str]
    requested_by: str
    source: str = strawberry.field(description="file or graph.")
    options: str = strawberry.field(description="The options used, as JSON.")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    model_version: str | None = strawberry.field(
        description="The candidate version registered (promote it to score with it)."
    )
    model_card: str | None = strawberry.field(description="Its model card (Markdown).")
    report: str | None = strawberry.field(description="The evaluation tables as printed.")
    cutoff: str | None = strawberry.field(description="Cases decided after it were held out.")
    case_counts: str | None = strawberry.field(
        description="Cases per task and split, as JSON (as in the model card)."
    )
    chosen: str | None = strawberry.field(description="Model kind per task, as JSON.")
    cases_loaded: int | None
    cases_rejected: int | None

    @classmethod
    def from_job(cls, job: TrainingJob, card: str | None) -> TrainingJobType:
        return cls(
            id=strawberry.ID(job.id), status=job.status, stage=job.stage, fraction=job.fraction,
            messages=list(job.messages), requested_by=job.requested_by, source=job.source,
            options=json.dumps(job.options), created_at=job.created_at,
            started_at=job.started_at, finished_at=job.finished_at, error=job.error,
            model_version=job.version, model_card=card, report=job.report, cutoff=job.cutoff,
            case_counts=json.dumps(job.case_counts) if job.done else None,
            chosen=json.dumps(job.chosen) if job.done else None,
            cases_loaded=job.cases_loaded, cases_rejected=job.cases_rejected,
        )  # fmt: skip


def jobs_of(info: Info[Context, None]) -> TrainingJobs:
    """The API process's job runner (made on first use, on the app's state)."""
    ctx = info.context
    state: Any = getattr(getattr(ctx.request, "app", None), "state", None)
    jobs: TrainingJobs | None = getattr(state, "training_jobs", None)
    if jobs is None:
        jobs = TrainingJobs(ctx.driver, ctx.database, ctx.settings.state_dir)
        if state is not None:
            state.training_jobs = jobs
    return jobs


def _card(info: Info[Context, None], job: TrainingJob) -> str | None:
    if job.version is None:
        return None
    path = registry_dir(info.context.settings.state_dir) / job.version / "MODEL_CARD.md"
    return path.read_text(encoding="utf-8") if path.exists() else None


def _config(options: TrainingOptionsInput | None) -> Any:
    from gnn.cases import CaseConfig
    from gnn.fit import GnnConfig

    o = options or TrainingOptionsInput()
    cfg = CaseConfig()
    if o.epochs is not None:
        if not 1 <= o.epochs <= 10_000:
            raise InvalidInput("epochs must be between 1 and 10000")
        cfg.gnn = GnnConfig(epochs=o.epochs)
    if o.tree_rounds is not None:
        if not 1 <= o.tree_rounds <= 10_000:
            raise InvalidInput("treeRounds must be between 1 and 10000")
        cfg.tree_rounds = o.tree_rounds
    if o.test_share is not None:
        if not 0 < o.test_share < 1:
            raise InvalidInput("testShare must be between 0 and 1")
        cfg.test_share = o.test_share
    if o.budget is not None:
        if o.budget < 1:
            raise InvalidInput("budget must be at least 1")
        cfg.budget = o.budget
    if o.budget_share is not None:
        if not 0 < o.budget_share <= 1:
            raise InvalidInput("budgetShare must be in (0, 1]")
        cfg.budget_share = o.budget_share
    if o.unlabelled_weight is not None:
        if not 0 <= o.unlabelled_weight <= 1:
            raise InvalidInput("unlabelledWeight must be between 0 and 1")
        cfg.unlabelled_weight = o.unlabelled_weight
    return cfg


@strawberry.type
class TrainingQuery:
    @strawberry.field(extensions=requires(Role.ADMIN),
                      description="A training job of this API process, by id.")  # fmt: skip
    async def training_job(self, info: Info[Context, None], id: strawberry.ID) -> TrainingJobType:
        job = jobs_of(info).get(str(id))
        if job is None:
            raise ModelNotFound(f"training job {id} does not exist (in this API process)")
        card = await run_in_threadpool(_card, info, job)
        return TrainingJobType.from_job(job, card)


@strawberry.type
class TrainingMutation:
    @strawberry.mutation(
        extensions=requires(Role.ADMIN),
        description="Start training on the bank's cases (as `chainlens train --cases` or "
        "`--from-graph`) in the background; returns the queued job. The version it registers "
        "is a candidate until promoted. CONFLICT while another job is queued or running.",
    )
    async def start_training_job(
        self, info: Info[Context, None], cases: TrainingCasesInput,
        options: TrainingOptionsInput | None = None,
    ) -> TrainingJobType:  # fmt: skip
        text = None
        if cases.source is CasesSource.FILE:
            if not cases.csv or not cases.csv.strip():
                raise InvalidInput("source FILE needs the cases file's text in `csv`")
            if len(cases.csv) > MAX_CASES_CHARS:
                raise InvalidInput(f"the cases file is longer than {MAX_CASES_CHARS} characters")
            text = cases.csv
        elif cases.csv is not None:
            raise InvalidInput("source GRAPH takes no `csv`")
        job = jobs_of(info).start(requested_by=info.context.user.username,
                                  config=_config(options), cases_text=text)  # fmt: skip
        return TrainingJobType.from_job(job, None)


@strawberry.type
class TrainingSubscription:
    @strawberry.subscription(
        extensions=requires(Role.ADMIN),
        description="A training job's state each time it changes, until it succeeds or fails.",
    )
    async def training_job_progress(
        self, info: Info[Context, None], id: strawberry.ID
    ) -> AsyncGenerator[TrainingJobType, None]:
        jobs = jobs_of(info)
        if jobs.get(str(id)) is None:
            raise ModelNotFound(f"training job {id} does not exist (in this API process)")
        seen = -1
        while True:
            job = jobs.get(str(id))
            if job is None:
                return
            if job.revision != seen:
                seen = job.revision
                card = await run_in_threadpool(_card, info, job) if job.done else None
                yield TrainingJobType.from_job(job, card)
            if job.done:
                return
            await asyncio.sleep(WATCH_S)
