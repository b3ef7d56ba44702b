"""`chainlens` — one console script with subcommands.

Heavy packages (torch, spaCy) are imported inside the commands that need them, so that
`chainlens neo4j status` answers instantly.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from chainlens.logs import configure_logging
from chainlens.settings import get_settings
from cli.cases import evaluate, model_app
from cli.common import console, ensure_neo4j, fail, load_settings
from cli.finance import finance_app
from cli.progress import progress_bars
from cli.users import users_app
from graph.errors import GraphError

if TYPE_CHECKING:
    from gnn.fit import GnnConfig

app = typer.Typer(
    help="ChainLens: industrial-chain intelligence for supply-chain finance.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
neo4j_app = typer.Typer(help="The managed local Neo4j server.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
sensors_app = typer.Typer(
    help="IoT-tracked collateral: broker, intake, simulator.", no_args_is_help=True
)
broker_app = typer.Typer(help="The local Mosquitto broker (demo).", no_args_is_help=True)
sensors_app.add_typer(broker_app, name="broker")
app.add_typer(sensors_app, name="sensors")
er_app = typer.Typer(
    help="Entity resolution: quality on generated folders and on the benchmark.",
    no_args_is_help=True,
)
app.add_typer(er_app, name="er")
app.add_typer(finance_app, name="finance")
bods_app = typer.Typer(
    help="Beneficial Ownership Data Standard (BODS 0.4) imports.", no_args_is_help=True
)
app.add_typer(bods_app, name="bods")
app.add_typer(model_app, name="model")
app.command()(evaluate)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    settings = get_settings()
    configure_logging("DEBUG" if verbose else settings.log_level, json=settings.log_json)


# ---- neo4j -------------------------------------------------------------------------------
@neo4j_app.command("install")
def neo4j_install() -> None:
    """Fetch the Neo4j community server's jars from Maven Central (once)."""
    from graph.server import ManagedNeo4j

    server = ManagedNeo4j(load_settings())
    try:
        with console.status("fetching Neo4j from Maven Central…"):
            fetched = server.install()
    except GraphError as e:
        raise fail(str(e)) from e
    console.print(f"Neo4j {'installed' if fetched else 'already installed'} in {server.home}")


@neo4j_app.command("start")
def neo4j_start() -> None:
    """Start the managed server (a no-op when it runs already) and wait until it answers."""
    from graph.server import ManagedNeo4j

    settings = load_settings()
    if not settings.managed_neo4j:
        raise fail("NEO4J_URI is set: ChainLens uses that server and starts nothing")
    server = ManagedNeo4j(settings)
    try:
        with console.status("starting Neo4j…"):
            started = server.start()
    except GraphError as e:
        raise fail(str(e)) from e
    status = server.status()
    console.print(f"Neo4j {'started' if started else 'was already running'}: {status.describe()}")
    console.print(f"  Bolt {status.bolt_uri}   Browser {status.http_url}/browser/")
    console.print(f"  user neo4j, password in {settings.state_dir / 'neo4j-password'}")


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the managed server cleanly (SIGTERM, then wait)."""
    from graph.server import ManagedNeo4j

    stopped = ManagedNeo4j(load_settings()).stop()
    console.print("Neo4j stopped" if stopped else "Neo4j was not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Whether the managed server is installed, running and answering."""
    from graph.server import ManagedNeo4j

    settings = load_settings()
    if not settings.managed_neo4j:
        console.print(f"external Neo4j at {settings.neo4j_uri}")
        return
    status = ManagedNeo4j(settings).status()
    console.print(f"Neo4j {settings.neo4j_version}: {status.describe()}  ({status.home})")
    if status.running and not status.answers:
        raise typer.Exit(code=3)
    if not status.running:
        raise typer.Exit(code=3)


# ---- db ------------------------------------------------------------------------------------
@db_app.command("init")
def db_init() -> None:
    """Create every constraint and index of the model (idempotent)."""
    from graph.driver import open_driver
    from graph.schema import apply_schema

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        count = apply_schema(driver, settings.neo4j_database)
    console.print(f"schema applied: {count} constraints and indexes")


@db_app.command("prune-audit")
def db_prune_audit(
    keep_days: Annotated[
        int,
        typer.Option(min=1, help="Keep the API's audit events of the last KEEP_DAYS days."),
    ],
) -> None:
    """Delete the API's audit events older than the retention period (idempotent)."""
    from datetime import UTC, datetime, timedelta

    from graph.driver import open_driver
    from graph.queries.audit import prune_audit_events

    settings = load_settings()
    ensure_neo4j(settings)
    cut_off = datetime.now(UTC) - timedelta(days=keep_days)
    with open_driver(settings) as driver:
        deleted = prune_audit_events(driver, settings.neo4j_database, cut_off)
    console.print(f"audit events before {cut_off:%Y-%m-%d %H:%M} UTC deleted: {deleted}")


# ---- data ----------------------------------------------------------------------------------
@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder for data/ and truth/.")],
    enterprises: Annotated[int, typer.Option(min=10)] = 10_000,
    seed: int = 7,
    trade_noise: Annotated[
        bool,
        typer.Option(
            help="Paperwork that does not match the goods: logistics gaps in genuine trade, "
            "faked shipments for some rings and shells (docs/generator.md)."
        ),
    ] = False,
    cases: Annotated[
        bool, typer.Option(help="Also write a bank's cases file, OUT/cases/cases.csv.")
    ] = False,
    typologies: Annotated[
        bool,
        typer.Option(
            help="Also plant money-laundering typologies (fan-in, fan-out, cycles...) and "
            "benign look-alikes, settings drawn per seed (docs/generator.md)."
        ),
    ] = False,
) -> None:
    """Generate synthetic industrial chains with ground truth, in the ingest format."""
    from ingest.synthetic import TradeNoise, Typologies
    from ingest.synthetic import generate as run_generator

    noise = TradeNoise() if trade_noise else None
    with progress_bars(console) as progress:
        summary = run_generator(
            out,
            enterprises=enterprises,
            seed=seed,
            progress=progress,
            trade_noise=noise,
            typologies=Typologies() if typologies else None,
        )
    table = Table(
        "file", "rows", title=f"generated in {summary.elapsed_s:.1f}s (as of {summary.as_of})"
    )
    for name, count in summary.counts.items():
        table.add_row(f"data/{name}", f"{count:,}")
    for name, count in summary.truth_counts.items():
        table.add_row(f"truth/{name}", f"{count:,}")
    console.print(table)
    if cases:
        from cli.cases import write_world_cases

        write_world_cases(out, seed)


@app.command()
def ingest(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    batch_size: int = 5000,
    resume: Annotated[
        bool, typer.Option("--resume/--no-resume", help="Skip batches an earlier run committed.")
    ] = True,
    as_of: Annotated[
        str | None, typer.Option(help="ISO date ending SUPPLIES' 12-month window.")
    ] = None,
    initial: Annotated[
        bool,
        typer.Option(
            "--initial",
            help="First load into an empty database through neo4j-admin's offline importer "
            "(the managed server is stopped for it); re-run it after an interruption.",
        ),
    ] = False,
) -> None:
    """Validate and load a folder in the ingest format; bad rows go to _rejects/."""

    from entity_resolution.pipeline import resolve_graph
    from graph.driver import open_driver
    from graph.schema import apply_schema
    from ingest.errors import FolderRefused
    from ingest.loader import ingest_folder

    settings = load_settings()
    if initial:
        _ingest_initial(folder, batch_size, date.fromisoformat(as_of) if as_of else None)
        return
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        apply_schema(driver, settings.neo4j_database)
        with progress_bars(console) as progress:
            try:
                summary = ingest_folder(
                    driver,
                    settings.neo4j_database,
                    folder,
                    batch_size=batch_size,
                    progress=progress,
                    resume=resume,
                    as_of=date.fromisoformat(as_of) if as_of else None,
                )
            except FolderRefused as e:
                raise fail(str(e)) from e
            resolved = resolve_graph(driver, settings.neo4j_database, progress=progress)
    console.print(summary.table())
    console.print(resolved.line(), soft_wrap=True)
    if summary.rejected:
        console.print(
            f"[yellow]{summary.rejected} rows rejected[/yellow]; see {summary.folder / '_rejects'}"
        )


def _ingest_initial(folder: Path, batch_size: int, as_of: date | None) -> None:
    """`ingest --initial`: neo4j-admin import, then schema, registrations and resolution."""
    from neo4j import Driver
    from neo4j.exceptions import DriverError, Neo4jError

    from cli.common import refuse
    from entity_resolution.pipeline import resolve_graph
    from ingest.errors import FolderRefused
    from ingest.initial import InitialRefused, initial_load
    from ingest.loader import ProgressCallback

    resolved: list[str] = []

    def post_load(driver: Driver, database: str, progress: ProgressCallback | None) -> None:
        resolved.append(resolve_graph(driver, database, progress=progress).line())

    settings = load_settings()
    with progress_bars(console) as progress:
        try:
            summary = initial_load(
                settings, folder, batch_size=batch_size, as_of=as_of, progress=progress,
                post_load=post_load,
            )  # fmt: skip
        except (InitialRefused, FolderRefused) as e:
            raise refuse(str(e)) from e
        except (GraphError, Neo4jError, DriverError) as e:
            raise fail(f"{e}\nRe-run `chainlens ingest --initial {folder}` to resume.") from e
    if not summary.already_loaded:
        console.print(summary.ingest.table())
    console.print(summary.line(), soft_wrap=True)
    for line in resolved:
        console.print(line, soft_wrap=True)
    if summary.ingest.rejected and not summary.already_loaded:
        console.print(
            f"[yellow]{summary.ingest.rejected} rows rejected[/yellow]; "
            f"see {summary.ingest.folder / '_rejects'}"
        )


@app.command()
def resolve(
    folder: Annotated[
        Path | None,
        typer.Option(exists=True, file_okay=False, help="Load this folder first (as ingest)."),
    ] = None,
    all_records: Annotated[
        bool, typer.Option("--all", help="Re-resolve and rewrite every record's link.")
    ] = False,
    file: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Match this CSV file (a 'name' column; name_en, uscc, phone, "
            "address, ... optional) against the graph instead; nothing is written "
            "to the graph.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Where --file's matches go (default: FILE.matches.csv); rows that "
            "cannot be matched go beside it, in .rejects.csv."
        ),
    ] = None,
    first: Annotated[
        int, typer.Option(min=1, max=50, help="Candidates written per row of --file.")
    ] = 1,
) -> None:
    """(Re)run entity resolution over the graph's source records and stored decisions, or
    match an outside list (--file) against the graph's enterprises."""
    from entity_resolution.pipeline import resolve_graph
    from graph.driver import open_driver
    from graph.schema import apply_schema
    from ingest.loader import ingest_folder

    settings = load_settings()
    ensure_neo4j(settings)
    if file is not None:
        from entity_resolution.errors import InvalidRecord
        from entity_resolution.lookup import match_file

        if folder is not None or all_records:
            raise fail(
                "--file matches an outside list; it cannot be combined with --folder or --all"
            )
        target = out or file.with_suffix(".matches.csv")
        try:
            with open_driver(settings) as driver, progress_bars(console) as progress:
                summary = match_file(driver, settings.neo4j_database, file, target,
                                     first=first, progress=progress)  # fmt: skip
        except InvalidRecord as e:
            raise fail(str(e)) from e
        console.print(summary.line(), soft_wrap=True)
        return
    with open_driver(settings) as driver:
        apply_schema(driver, settings.neo4j_database)
        with progress_bars(console) as progress:
            if folder is not None:
                ingest_folder(driver, settings.neo4j_database, folder, progress=progress)
            resolved = resolve_graph(
                driver, settings.neo4j_database, full=all_records, progress=progress
            )
    console.print(resolved.line(), soft_wrap=True)


@er_app.command("evaluate")
def er_evaluate(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    with_masters: Annotated[
        bool, typer.Option(help="Resolve against the enterprises file too (as ingest does).")
    ] = True,
) -> None:
    """Pairwise and B-cubed scores of entity resolution on a generated folder (no database)."""
    import json

    from entity_resolution.evaluate import evaluate_folder

    Console().print_json(json.dumps(evaluate_folder(folder, with_masters=with_masters)))


@er_app.command("benchmark")
def er_benchmark(
    file: Annotated[
        Path | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Labelled pairs (default: tests/data/er/benchmark.csv).",
        ),
    ] = None,
    split: Annotated[
        str, typer.Option(help="Which part to score: test, tune or all (tune on tune only).")
    ] = "test",
) -> None:
    """Entity resolution on labelled pairs of real firm names: ROC-AUC, recall at a 95%
    true-negative rate, precision and recall at the operating threshold, per category; the
    last line is the same as JSON."""
    import json

    from entity_resolution.benchmark import DEFAULT_PATH, evaluate, read_pairs

    if split not in ("test", "tune", "all"):
        raise fail(f"--split must be test, tune or all, not {split!r}")
    out = evaluate(read_pairs(file or DEFAULT_PATH), split)
    con = Console()
    head = Table("figure", "value", title=f"benchmark, {split} part")
    for label, value in (
        ("pairs (same / different)", f"{out['pairs']} ({out['same']} / {out['different']})"),
        ("ROC-AUC", f"{out['roc_auc']:.4f}"),
        ("expected calibration error (10 bins)", f"{out['calibration_error']:.4f}"),
        ("recall at a 95% true-negative rate", f"{out['recall_at_tnr95']:.4f}"),
        ("operating threshold", f"{out['operating_threshold']:.4f}"),
        ("precision at the operating threshold", f"{out['precision']:.4f}"),
        ("recall at the operating threshold", f"{out['recall']:.4f}"),
        ("true-negative rate at the operating threshold", f"{out['tnr']:.4f}"),
        ("same pairs sharing a blocking key", f"{out['blocking_recall']:.4f}"),
    ):
        head.add_row(label, value)
    con.print(head)
    cats = Table(
        "category",
        "pairs",
        "same",
        "diff.",
        "recall",
        "TNR",
        "recall @TNR.95",
        "mean score",
        title="per category (recall, TNR at the operating threshold)",
    )
    for name, row in out["categories"].items():
        cats.add_row(
            name,
            str(row["pairs"]),
            str(row["same"]),
            str(row["different"]),
            f"{row['recall']:.4f}" if "recall" in row else "-",
            f"{row['tnr']:.4f}" if "tnr" in row else "-",
            f"{row['recall_at_tnr95']:.4f}" if "recall_at_tnr95" in row else "-",
            f"{row['mean_score']:.4f}",
        )
    con.print(cats)
    print(json.dumps(out, ensure_ascii=False))


# ---- api -----------------------------------------------------------------------------------
@app.command()
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the API (GraphQL at /graphql)."""
    import uvicorn

    from api.app import create_app

    settings = load_settings()
    ensure_neo4j(settings)
    uvicorn.run(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        log_level="warning",
    )


@app.command()
def schema() -> None:
    """Print the GraphQL schema (SDL) for clients that generate code from it."""
    from strawberry.printer import print_schema

    from api.graphql.schema import build_schema

    sys.stdout.write(print_schema(build_schema(load_settings())) + "\n")


@app.command()
def stats() -> None:
    """Counts of nodes per label and relationships per type."""
    from graph.driver import open_driver
    from graph.enterprises import graph_stats

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        s = graph_stats(driver, settings.neo4j_database)
    table = Table("kind", "name", "count")
    for name, count in s.nodes.items():
        table.add_row("node", name, f"{count:,}")
    for name, count in s.relationships.items():
        table.add_row("relationship", name, f"{count:,}")
    Console().print(table)


# ---- sensors -------------------------------------------------------------------------------
@broker_app.command("start")
def sensors_broker_start() -> None:
    """Start a persistent Mosquitto under the state folder on MQTT_HOST:MQTT_PORT."""
    from sensors.broker import start_daemon
    from sensors.errors import BrokerError

    settings = load_settings()
    try:
        pid = start_daemon(settings.state_dir / "mosquitto", settings.mqtt_port, settings.mqtt_host)
    except BrokerError as e:
        raise fail(str(e)) from e
    console.print(f"mosquitto running (pid {pid}) on {settings.mqtt_host}:{settings.mqtt_port}")


@broker_app.command("stop")
def sensors_broker_stop() -> None:
    """Stop the broker that `broker start` started."""
    from sensors.broker import stop_daemon

    stopped = stop_daemon(load_settings().state_dir / "mosquitto")
    console.print("mosquitto stopped" if stopped else "mosquitto was not running")


@broker_app.command("status")
def sensors_broker_status() -> None:
    """Whether the broker runs (exit code 3 when not)."""
    from sensors.broker import daemon_pid

    settings = load_settings()
    pid = daemon_pid(settings.state_dir / "mosquitto")
    if pid is None:
        console.print("mosquitto not running")
        raise typer.Exit(code=3)
    console.print(f"mosquitto running (pid {pid}) on {settings.mqtt_host}:{settings.mqtt_port}")


@sensors_app.command("intake")
def sensors_intake(
    data_dir: Annotated[Path | None, typer.Option(help="Raw reading store.")] = None,
    wall_clock: Annotated[bool, typer.Option(help="Evaluate rules on the wall clock too.")] = False,
    idle_exit_s: Annotated[float | None, typer.Option(help="Exit after this long idle.")] = None,
) -> None:
    """Run the MQTT intake in the foreground (Ctrl-C stops it): store, acknowledge, derive,
    alert, and value collateral, with finance's margin calls on falling values and the
    post-loan rules on the financings a new alert touches."""
    from decisions.postloan import on_collateral_event
    from finance.collateral import on_valuation
    from sensors.intake import run_mqtt_intake
    from sensors.sink import bind_alert_hook
    from sensors.valuation import bind_hook

    settings = load_settings()
    ensure_neo4j(settings)
    console.print(f"intake on {settings.mqtt_host}:{settings.mqtt_port}; Ctrl-C to stop")
    acked, accepted = run_mqtt_intake(
        settings,
        data_dir=data_dir,
        wall_clock=wall_clock,
        idle_exit_s=idle_exit_s,
        hooks=lambda driver, database: [bind_hook(on_valuation, driver, database)],
        alert_hooks=lambda driver, database: [
            bind_alert_hook(on_collateral_event, driver, database)
        ],
    )
    console.print(f"acknowledged {acked:,} readings, stored {accepted:,} new")


@sensors_app.command("simulate")
def sensors_simulate(
    seed: Annotated[int, typer.Option(help="Scenario seed (same seed, same readings).")] = 7,
    days: Annotated[int, typer.Option(min=1, help="Normal days, incidents on the last.")] = 3,
    register: Annotated[bool, typer.Option(help="Write assets and sensors to the graph.")] = False,
    rate: Annotated[float | None, typer.Option(help="Readings per second.")] = None,
) -> None:
    """Publish a simulated scenario (planted incidents on its last day) to the broker."""
    from graph.driver import open_driver
    from sensors.registry import register_scenario
    from sensors.simulator import build_scenario, publish

    settings = load_settings()
    scenario = build_scenario(seed=seed, days=days)
    if register:
        ensure_neo4j(settings)
        with open_driver(settings) as driver:
            register_scenario(driver, settings.neo4j_database, scenario)
        console.print(f"registered {len(scenario.registry.sensors)} sensors")
    with console.status(f"publishing {len(scenario.readings):,} readings…"):
        n = publish(scenario, settings.mqtt_host, settings.mqtt_port, rate=rate)
    for incident in scenario.incidents:
        console.print(f"planted {incident.kind} on {incident.asset_id}: {incident.description}")
    console.print(f"published {n:,} readings")


# ---- ownership ------------------------------------------------------------------------------
@bods_app.command("import")
def bods_import(path: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Import ownership statements (BODS 0.4 JSON array or JSON Lines)."""
    from graph.driver import open_driver
    from ingest.bods import import_file

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        summary = import_file(driver, settings.neo4j_database, path)
    console.print(
        f"BODS: {summary.enterprises} enterprises ({summary.matched_by_uscc} matched by USCC), "
        f"{summary.persons} persons, {summary.holdings} holdings, {summary.closed} closed, "
        f"{len(summary.skipped)} statements skipped"
    )
    for skipped in summary.skipped[:20]:
        console.print(f"  skipped: {skipped}")


# ---- risk ----------------------------------------------------------------------------------
def _parse_seeds(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(s) for s in value.split(",") if s.strip())
    except ValueError as e:
        raise typer.BadParameter(f"seeds are comma-separated integers, got {value!r}") from e


def _gnn_config(
    epochs: int | None, workers: int, batch_size: int, fanout: str, threads: int = 0
) -> GnnConfig:
    """The GNN's training config of ``chainlens train``'s options: full-graph unless
    ``batch_size`` or ``workers`` > 1 ask for mini-batches (gnn/minibatch.py); ``threads``
    0 means the CPUs this process may use."""
    from entity_resolution.forked import available_cpus
    from gnn.fit import DEFAULT_BATCH_SIZE, GnnConfig

    try:
        layers = tuple(int(k) for k in fanout.split(",") if k.strip())
    except ValueError as e:
        raise typer.BadParameter(f"fanout is comma-separated integers, got {fanout!r}") from e
    if len(layers) != GnnConfig.layers or min(layers) < 1:
        raise typer.BadParameter(f"fanout needs {GnnConfig.layers} positive counts, got {fanout!r}")
    minibatch = batch_size > 0 or workers > 1
    return GnnConfig(
        epochs=epochs if epochs is not None else (10 if minibatch else 150),
        batch_size=(batch_size or DEFAULT_BATCH_SIZE) if minibatch else 0,
        fanout=layers,
        workers=workers,
        threads=threads or available_cpus(),
    )


@app.command()
def train(
    report: Annotated[bool, typer.Option("--report/--no-report", help="Print the tables.")] = True,
    train_seeds: Annotated[str, typer.Option(help="Generator seeds to train on.")] = "11,12",
    test_seeds: Annotated[str, typer.Option(help="Held-out generator seeds.")] = "21",
    train_enterprises: int = 4000,
    test_enterprises: int = 6000,
    epochs: Annotated[
        int | None, typer.Option(help="Default: 150 full-graph, 10 in mini-batches.")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Data-parallel training processes (torch.distributed: gloo on CPUs); "
            "more than one trains in mini-batches.",
        ),
    ] = 1,
    batch_size: Annotated[
        int,
        typer.Option(
            min=0,
            help="Seed firms per mini-batch step, shared among the workers; 0 trains "
            "full-graph (the default for one worker; with more, 0 means 1024).",
        ),
    ] = 0,
    fanout: Annotated[
        str, typer.Option(help="Mini-batches: neighbours sampled per node, per layer.")
    ] = "15,10",
    threads: Annotated[
        int,
        typer.Option(
            min=0,
            help="CPU threads for the GNN, shared among the workers; 0: every CPU this "
            "process may use.",
        ),
    ] = 0,
    cases: Annotated[
        Path | None,
        typer.Option(
            "--cases",
            exists=True,
            dir_okay=False,
            help="Load this cases file into the graph and train on the graph's cases.",
        ),
    ] = None,
    from_graph: Annotated[
        bool, typer.Option("--from-graph", help="Train on the cases already in the graph.")
    ] = False,
    test_share: Annotated[float, typer.Option(help="Cases held out (latest).")] = 0.3,
    budget: Annotated[int | None, typer.Option(help="Firms analysts review.")] = None,
    budget_share: Annotated[float, typer.Option(help="Or this share of firms.")] = 0.01,
    unlabelled_weight: Annotated[float, typer.Option(help="Weight of firms without a case.")] = 0.1,
    tree_rounds: int = 200,
) -> None:
    """Train the fraud and default models on generated chains, evaluate them against the
    baselines and leakage controls on held-out seeds, and register the best per task.
    With --cases or --from-graph: on the graph in Neo4j with the bank's cases (time split),
    registering a candidate that scores once promoted (docs/risk-scoring.md).
    --workers N / --batch-size: mini-batch and data-parallel training (docs/gnn-training.md)."""
    gnn = _gnn_config(epochs, workers, batch_size, fanout, threads)
    if cases is not None or from_graph:
        from dataclasses import replace

        from cli.cases import case_config, run_on_cases

        config_cases = case_config(test_share, budget, budget_share, unlabelled_weight,
                                   gnn.epochs, tree_rounds)  # fmt: skip
        run_on_cases(cases, replace(config_cases, gnn=gnn), register=True, report=report)
        return
    from gnn.train import TrainConfig, train_and_report

    config = TrainConfig(
        train_seeds=_parse_seeds(train_seeds),
        test_seeds=_parse_seeds(test_seeds),
        train_enterprises=train_enterprises,
        test_enterprises=test_enterprises,
        gnn=gnn,
    )
    out = Console(width=180, quiet=not report)
    result = train_and_report(
        load_settings().state_dir, config, console=out, progress=lambda msg: console.log(msg)
    )
    chosen = ", ".join(f"{task}: {kind}" for task, kind in result.chosen.items())
    console.print(f"registered model {result.version} ({chosen})")


@app.command()
def score(
    model_version: Annotated[str | None, typer.Option(help="Default: the newest.")] = None,
    as_of: Annotated[str | None, typer.Option(help="ISO date; default the latest invoice.")] = None,
) -> None:
    """Score every enterprise (fraud, default) and write scores with explanations back."""

    from gnn.scoring import score_graph
    from graph.driver import open_driver

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver, progress_bars(console) as progress:
        summary = score_graph(
            driver,
            settings.neo4j_database,
            model_version,
            state_dir=settings.state_dir,
            as_of=date.fromisoformat(as_of) if as_of else None,
            progress=lambda stage, rows: progress(stage, rows, None),
        )
    console.print(
        f"scored {summary.scored:,} enterprises with model {summary.model_version} "
        f"as of {summary.as_of}"
    )


# ---- demo ----------------------------------------------------------------------------------
@app.command()
def demo(
    enterprises: Annotated[int, typer.Option(min=100)] = 20_000,
    seed: int = 7,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve")] = True,
) -> None:
    """Everything at once: Neo4j, a generated industrial chain, ingest, scores, the API."""
    from api.security import Role, add_user
    from chainlens.settings import read_or_create_secret
    from entity_resolution.pipeline import resolve_graph
    from gnn.fit import GnnConfig
    from gnn.registry import list_versions
    from gnn.scoring import score_graph
    from gnn.train import TrainConfig, train_and_report
    from graph.driver import open_driver
    from graph.schema import apply_schema
    from ingest.loader import ingest_folder
    from ingest.synthetic import generate as run_generator

    settings = load_settings()
    ensure_neo4j(settings)
    out = settings.state_dir / "demo" / f"chain-{enterprises}-{seed}"
    with progress_bars(console) as progress:
        if not (out / "data" / "manifest.json").exists():
            run_generator(out, enterprises=enterprises, seed=seed, progress=progress)
        with open_driver(settings) as driver:
            apply_schema(driver, settings.neo4j_database)
            summary = ingest_folder(
                driver, settings.neo4j_database, out / "data", progress=progress
            )
            resolved = resolve_graph(driver, settings.neo4j_database, progress=progress)
            if not list_versions(settings.state_dir, usable_only=True):
                # A small model is enough for the demo; `chainlens train` makes the full one.
                train_and_report(
                    settings.state_dir,
                    TrainConfig(
                        train_seeds=(11,),
                        test_seeds=(21,),
                        train_enterprises=2000,
                        test_enterprises=2000,
                        gnn=GnnConfig(epochs=30),
                    ),
                    console=Console(quiet=True),
                    progress=lambda msg: console.log(msg),
                )
            scored = score_graph(
                driver,
                settings.neo4j_database,
                state_dir=settings.state_dir,
                progress=lambda stage, rows: progress(stage, rows, None),
            )
            password = read_or_create_secret(settings.state_dir / "demo-password")
            add_user(driver, settings.neo4j_database, "demo", password, list(Role))
    console.print(summary.table())
    console.print(resolved.line(), soft_wrap=True)
    console.print(f"scored {scored.scored:,} enterprises with model {scored.model_version}")
    url = f"http://{settings.api_host}:{settings.api_port}"
    console.print(f"\n[bold]ChainLens is ready[/bold] at {url}  (GraphQL: {url}/graphql)")
    console.print(f"  login: demo / {password}   (kept in {settings.state_dir / 'demo-password'})")
    console.print(f"  Neo4j Browser: http://127.0.0.1:{settings.neo4j_http_port}/browser/")
    if serve_api:
        serve(host=None, port=None)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()
