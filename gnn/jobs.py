"""Training on a bank's cases as a job: what `chainlens train --cases/--from-graph` does, run
by a background worker of the API process and reported while it runs.

`load_and_train` is the one code path of both: load a cases file when one is given (validated
row by row, bad rows to a rejects file, as `chainlens ingest` does), then `train_on_cases`
on the graph in Neo4j, which registers a candidate version with its model card.

`TrainingJobs` runs one job at a time on a worker thread: a second `start` while a job is
queued or running is refused with `JobConflict` (409). Each job reports its status (queued,
running, succeeded, failed), the stage it is in and the share of stages done, its messages,
the printed evaluation tables, and the version it registered. Jobs live in the memory of the
process that runs them (the newest `keep` are kept); what they register lives in the
registry, like any version.
"""

from __future__ import annotations

import io
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neo4j import Driver
from rich.console import Console

from chainlens.logs import get_logger
from gnn.cases import CaseConfig, CaseReport, train_on_cases
from gnn.errors import DatasetError, GnnError, JobConflict

if TYPE_CHECKING:
    from ingest.loader import IngestSummary

log = get_logger(__name__)

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
DONE = frozenset({SUCCEEDED, FAILED})
# Stages reported by `train_on_cases` for each task it fits (see `gnn.cases.evaluate_task`).
TASK_STAGES = 5


def load_and_train(
    driver: Driver,
    database: str,
    state_dir: Path,
    cases_file: Path | None,
    config: CaseConfig,
    *,
    register: bool,
    compare_version: str | None = None,
    console: Console | None = None,
    progress: Callable[[str], None] | None = None,
    load_progress: Any = None,
    on_loaded: Callable[[IngestSummary], None] | None = None,
) -> tuple[IngestSummary | None, CaseReport]:
    """Load ``cases_file`` (when given) into the graph, then train (``register``) or evaluate
    on the graph's cases. A cases file refused as a whole is a `DatasetError`, after
    ``on_loaded`` has seen its summary; rejected rows are not (they are in the summary)."""
    from graph.schema import apply_schema
    from ingest.loader import load_cases

    summary = None
    if cases_file is not None:
        if progress is not None:
            progress("loading the cases file")
        apply_schema(driver, database)
        summary = load_cases(driver, database, cases_file, progress=load_progress)
        if on_loaded is not None:
            on_loaded(summary)
        if summary.refused_files:
            raise DatasetError(f"{cases_file.name}: {summary.refused_files[0].error}")
    report = train_on_cases(
        driver, database, state_dir, config, register=register,
        compare_version=compare_version, console=console, progress=progress,
    )  # fmt: skip
    return summary, report


@dataclass
class TrainingJob:
    """A snapshot of one job (the worker changes its own copy; readers get copies)."""

    id: str
    requested_by: str
    source: str  # "file" (a cases file sent with the request) or "graph"
    options: dict[str, Any]
    created_at: datetime
    status: str = QUEUED
    stage: str = "queued"
    fraction: float = 0.0
    messages: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: str | None = None
    error: str | None = None
    report: str | None = None
    cases_loaded: int | None = None
    cases_rejected: int | None = None
    case_counts: dict[str, dict[str, Any]] = field(default_factory=dict)
    cutoff: str | None = None
    chosen: dict[str, str] = field(default_factory=dict)
    revision: int = 0
    """Grows with every change: a watcher pushes a snapshot when it has moved."""

    @property
    def done(self) -> bool:
        return self.status in DONE


class TrainingJobs:
    """One worker thread per job, one job at a time (see the module docstring)."""

    def __init__(self, driver: Driver, database: str, state_dir: Path, *, keep: int = 50,
                 max_messages: int = 200) -> None:  # fmt: skip
        self.driver, self.database, self.state_dir = driver, database, state_dir
        self.keep, self.max_messages = keep, max_messages
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()
        self._active: str | None = None
        self._threads: dict[str, threading.Thread] = {}

    # ---- reading --------------------------------------------------------------------
    def get(self, job_id: str) -> TrainingJob | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return None if job is None else replace(job, messages=list(job.messages))

    def join(self, job_id: str, timeout: float | None = None) -> None:
        """Wait for a job's worker to end (shutdown, tests)."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    # ---- starting -------------------------------------------------------------------
    def start(self, *, requested_by: str, config: CaseConfig,
              cases_text: str | None = None) -> TrainingJob:  # fmt: skip
        """Queue a job and start its worker; `JobConflict` while another one is not done."""
        with self._lock:
            if self._active is not None:
                active = self._jobs[self._active]
                raise JobConflict(f"training job {active.id} is still {active.status}; "
                                  "one job runs at a time")  # fmt: skip
            job = TrainingJob(
                id=f"train-{uuid.uuid4().hex[:12]}", requested_by=requested_by,
                source="graph" if cases_text is None else "file",
                options=_options(config), created_at=datetime.now(UTC),
            )  # fmt: skip
            self._jobs[job.id] = job
            self._active = job.id
            for old in [j.id for j in self._jobs.values() if j.done]:  # oldest first
                if len(self._jobs) <= self.keep:
                    break
                self._jobs.pop(old, None)
                self._threads.pop(old, None)
            thread = threading.Thread(target=self._run, args=(job.id, config, cases_text),
                                      name=f"chainlens-{job.id}", daemon=True)  # fmt: skip
            self._threads[job.id] = thread
            snapshot = replace(job, messages=list(job.messages))
        thread.start()
        log.info("training job queued", job=job.id, by=requested_by, source=job.source)
        return snapshot

    # ---- the worker -----------------------------------------------------------------
    def _update(self, job_id: str, **changes: Any) -> None:
        with self._lock:
            job = self._jobs[job_id]
            for k, v in changes.items():
                setattr(job, k, v)
            job.revision += 1

    def _say(self, job_id: str, message: str) -> None:
        with self._lock:
            job = self._jobs[job_id]
            stamp = datetime.now(UTC).strftime("%H:%M:%S")
            job.messages.append(f"{stamp} {message}")
            del job.messages[: -self.max_messages]
            job.revision += 1

    def _run(self, job_id: str, config: CaseConfig, cases_text: str | None) -> None:
        tasks = len(config.tasks)
        # Stages: [loading], exporting, the split, TASK_STAGES per task, registering.
        total = (1 if cases_text is not None else 0) + 2 + TASK_STAGES * tasks + 1
        started = 0
        folder: Path | None = None

        def progress(message: str) -> None:
            nonlocal started
            fraction = min(started / total, 0.99)
            started += TASK_STAGES if message.endswith("not trained") else 1
            self._say(job_id, message)
            self._update(job_id, stage=message, fraction=round(fraction, 4))

        def loaded(summary: IngestSummary) -> None:
            self._update(job_id, cases_loaded=summary.loaded, cases_rejected=summary.rejected)
            self._say(job_id, f"cases file: {summary.loaded} rows loaded, "
                              f"{summary.rejected} rejected")  # fmt: skip
            for f in summary.files:
                if f.error is not None:
                    self._say(job_id, f"cases file refused: {f.error}")
                elif f.rejects_path is not None and f.rejected:
                    for line in _first_lines(f.rejects_path, 5):
                        self._say(job_id, f"rejected row: {line}")

        self._update(job_id, status=RUNNING, stage="starting", started_at=datetime.now(UTC))
        try:
            cases_file = None
            if cases_text is not None:
                (self.state_dir / "tmp").mkdir(parents=True, exist_ok=True)
                folder = self.state_dir / "tmp" / job_id
                folder.mkdir(parents=True, exist_ok=True)
                cases_file = folder / "cases.csv"
                cases_file.write_text(cases_text, encoding="utf-8")
            out = io.StringIO()
            _, report = load_and_train(
                self.driver, self.database, self.state_dir, cases_file, config, register=True,
                console=Console(file=out, width=200, color_system=None), progress=progress,
                on_loaded=loaded,
            )  # fmt: skip
        except GnnError as e:
            self._fail(job_id, str(e))
        except Exception as e:  # the worker must always end the job
            log.exception("training job failed", job=job_id)
            self._fail(job_id, f"internal error ({type(e).__name__}); see the server log")
        else:
            self._say(job_id, f"registered candidate {report.version}")
            self._update(
                job_id, status=SUCCEEDED, stage="done", fraction=1.0, version=report.version,
                report=out.getvalue(), case_counts=report.counts, cutoff=str(report.cutoff),
                chosen=dict(report.chosen), finished_at=datetime.now(UTC),
            )  # fmt: skip
            log.info("training job succeeded", job=job_id, version=report.version)
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            with self._lock:
                if self._active == job_id:
                    self._active = None

    def _fail(self, job_id: str, error: str) -> None:
        self._say(job_id, f"failed: {error}")
        self._update(job_id, status=FAILED, error=error, finished_at=datetime.now(UTC))
        log.warning("training job failed", job=job_id, error=error)


def _options(config: CaseConfig) -> dict[str, Any]:
    return {
        "epochs": config.gnn.epochs, "tree_rounds": config.tree_rounds,
        "test_share": config.test_share, "budget": config.budget,
        "budget_share": config.budget_share, "unlabelled_weight": config.unlabelled_weight,
    }  # fmt: skip


def _first_lines(path: Path, n: int) -> list[str]:
    try:
        with path.open(encoding="utf-8") as f:
            return [line.strip()[:300] for _, line in zip(range(n), f, strict=False)]
    except OSError:
        return []


__all__ = ["DONE", "TrainingJob", "TrainingJobs", "load_and_train"]
