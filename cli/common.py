"""What every command module of the CLI shares: the console (stderr), the settings, the
managed Neo4j started on demand, and the two ways a command fails (exit code 1 for a fault,
2 for bad input or a refused step)."""

from __future__ import annotations

from datetime import date

import typer
from rich.console import Console

from chainlens.settings import Settings, get_settings

console = Console(stderr=True)


def load_settings() -> Settings:
    return get_settings()


def fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=1)


def refuse(message: str) -> typer.Exit:
    """Bad input or a refused step: the message on stderr, exit code 2."""
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


def iso_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise refuse(f"{option} takes a date as YYYY-MM-DD, not {value!r}") from e


def ensure_neo4j(settings: Settings) -> None:
    """Start the managed server when no external Neo4j is configured."""
    if not settings.managed_neo4j:
        return
    from graph.server import ManagedNeo4j

    server = ManagedNeo4j(settings)
    if server.pid() is None:
        with console.status("starting Neo4j (first start takes up to a minute)…"):
            server.start()
