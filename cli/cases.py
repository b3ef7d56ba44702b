"""The CLI of a bank's own cases and models: `train --cases/--from-graph`, `evaluate`,
`model list|show|promote`, and the cases file of a generated world (`generate --cases`).

`cli.main` registers these; heavy packages are imported inside the commands.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from chainlens.settings import get_settings
from cli.common import console, fail
from cli.progress import progress_bars

if TYPE_CHECKING:
    from gnn.cases import CaseConfig
    from ingest.loader import IngestSummary

model_app = typer.Typer(
    help="The model registry: list versions, show a model card, promote a version.",
    no_args_is_help=True,
)


def case_config(
    test_share: float, budget: int | None, budget_share: float, unlabelled_weight: float,
    epochs: int, tree_rounds: int,
) -> CaseConfig:  # fmt: skip
    from gnn.cases import CaseConfig
    from gnn.fit import GnnConfig

    return CaseConfig(
        test_share=test_share, budget=budget, budget_share=budget_share,
        unlabelled_weight=unlabelled_weight, gnn=GnnConfig(epochs=epochs),
        tree_rounds=tree_rounds,
    )  # fmt: skip


def run_on_cases(
    cases_file: Path | None, config: CaseConfig, *, register: bool, report: bool = True,
    compare_version: str | None = None,
) -> None:  # fmt: skip
    """Load ``cases_file`` (when given) into the graph, then train or evaluate on its cases."""
    from cli.common import ensure_neo4j
    from gnn.errors import GnnError
    from gnn.jobs import load_and_train
    from graph.driver import open_driver
    from ingest.errors import IngestError

    settings = get_settings()
    ensure_neo4j(settings)

    def loaded(summary: IngestSummary) -> None:
        console.print(summary.table())
        if summary.rejected:
            console.print(f"[yellow]{summary.rejected} case rows rejected[/yellow]; see "
                          f"{summary.folder / '_rejects'}")  # fmt: skip

    with open_driver(settings) as driver, progress_bars(console) as bars:
        try:
            _, result = load_and_train(
                driver, settings.neo4j_database, settings.state_dir, cases_file, config,
                register=register, compare_version=compare_version,
                console=Console(width=200, quiet=not report),
                progress=lambda msg: console.log(msg), load_progress=bars, on_loaded=loaded,
            )  # fmt: skip
        except (GnnError, IngestError) as e:
            raise fail(str(e)) from e
    if result.version:
        console.print(f"registered candidate model {result.version}; it scores once an admin "
                      f"runs `chainlens model promote {result.version}`")  # fmt: skip


def evaluate(
    cases_file: Annotated[
        Path | None,
        typer.Option("--cases", exists=True, dir_okay=False, help="Load this cases file first."),
    ] = None,
    model_version: Annotated[
        str | None,
        typer.Option(help="Also evaluate this version (default: the one that scores now)."),
    ] = None,
    test_share: float = 0.3,
    budget: Annotated[int | None, typer.Option(help="Firms analysts review.")] = None,
    budget_share: Annotated[float, typer.Option(help="Or this share of the firms.")] = 0.01,
    unlabelled_weight: float = 0.1,
    epochs: int = 150,
    tree_rounds: int = 200,
) -> None:
    """Evaluate on the graph's own cases (time split): the GNN, the edge-shuffle control, the
    baselines and a registered version, in one run; registers nothing."""
    from gnn.registry import default_version

    version = model_version or default_version(get_settings().state_dir)
    run_on_cases(
        cases_file,
        case_config(test_share, budget, budget_share, unlabelled_weight, epochs, tree_rounds),
        register=False, compare_version=version,
    )  # fmt: skip


@model_app.command("list")
def model_list() -> None:
    """Every registered version: when, on what, chosen models, and which one scores."""
    from gnn.registry import default_version, list_versions, promoted

    state = get_settings().state_dir
    current = default_version(state)
    record = promoted(state)
    table = Table("version", "created", "trained on", "chosen", "status")
    for m in list_versions(state):
        status = []
        if m["version"] == current:
            status.append("scores" + (" (promoted)" if record else " (newest)"))
        if m.get("requires_promotion") and not (record and record["version"] == m["version"]):
            status.append("candidate")
        table.add_row(m["version"], m["created_at"][:19], m.get("trained_on", "generator"),
                      json.dumps(m.get("chosen", {})), ", ".join(status))  # fmt: skip
    Console().print(table)


@model_app.command("show")
def model_show(version: str) -> None:
    """Print a version's model card (or its meta when it has no card)."""
    from gnn.registry import registry_dir

    folder = registry_dir(get_settings().state_dir) / version
    if not (folder / "meta.json").exists():
        raise fail(f"no model version {version!r}")
    card = folder / "MODEL_CARD.md"
    Console().print(card.read_text(encoding="utf-8") if card.exists()
                    else (folder / "meta.json").read_text(encoding="utf-8"))  # fmt: skip


@model_app.command("promote")
def model_promote(
    version: str,
    note: Annotated[str | None, typer.Option(help="Why (kept in the record).")] = None,
) -> None:
    """Make VERSION the model that `chainlens score` uses (an admin's act, recorded)."""
    from gnn.errors import ModelNotFound
    from gnn.registry import promote

    try:
        record = promote(get_settings().state_dir, version, getpass.getuser(), note)
    except ModelNotFound as e:
        raise fail(str(e)) from e
    console.print(f"promoted {record['version']} (by {record['by']} at {record['at']})")


def write_world_cases(out: Path, seed: int) -> None:
    """`generate --cases`: the bank's cases file of the world just generated."""
    from ingest.synthetic.cases import write_cases

    path = write_cases(out, seed=seed)
    console.print(f"cases: {path}")
