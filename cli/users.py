"""`chainlens users`: API users, their roles and funders (add, disable, enable, remove,
list, add-funder, funders, bind)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.common import console, ensure_neo4j, fail, load_settings

users_app = typer.Typer(help="API users and their roles.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", "-r", help="Repeat for several roles.")],
    password: Annotated[
        str | None,
        typer.Option(
            help="Read from CHAINLENS_NEW_PASSWORD or prompted when not given.",
            envvar="CHAINLENS_NEW_PASSWORD",
        ),
    ] = None,
    update: Annotated[
        bool,
        typer.Option(
            "--update",
            help="Replace the password and roles of an existing user (its tokens stop working).",
        ),
    ] = False,
    funder: Annotated[
        str | None, typer.Option(help="The funder whose book the user works in.")
    ] = None,
    enterprise: Annotated[
        str | None, typer.Option(help="The enterprise (core or supplier) the user acts for.")
    ] = None,
) -> None:
    """Create a user; with --update, change an existing one. The password is stored
    argon2-hashed and must pass the policy (docs/api.md, "Security"). --funder and
    --enterprise bind it (docs/api.md, "Several funders")."""
    from api.security import UserExists, add_user, check_username, parse_roles
    from graph.driver import open_driver

    try:
        check_username(username)
        roles = parse_roles(role)
    except ValueError as e:
        raise fail(str(e)) from e
    if password is None:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        try:
            existed = add_user(
                driver, settings.neo4j_database, username, password, roles, update=update,
                funder_id=funder, enterprise_id=enterprise,
            )  # fmt: skip
        except UserExists as e:
            raise fail(str(e)) from e
        except ValueError as e:
            raise fail(str(e)) from e
    verb = "updated (older tokens revoked)" if existed else "created"
    console.print(f"user {username} {verb} with roles {', '.join(r.value for r in roles)}")


def _set_user_disabled(username: str, disabled: bool) -> None:
    from api.security import disable_user
    from graph.driver import open_driver

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        if not disable_user(driver, settings.neo4j_database, username, disabled):
            raise fail(f"no user {username}")
    state = "disabled (its tokens are revoked)" if disabled else "enabled"
    console.print(f"user {username} {state}")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: it cannot log in, and its tokens stop working."""
    _set_user_disabled(username, True)


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user again (it logs in anew; old tokens stay revoked)."""
    _set_user_disabled(username, False)


@users_app.command("remove")
def users_remove(username: str) -> None:
    """Delete a user; its tokens stop working."""
    from api.security import delete_user
    from graph.driver import open_driver

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        if not delete_user(driver, settings.neo4j_database, username):
            raise fail(f"no user {username}")
    console.print(f"user {username} removed")


@users_app.command("list")
def users_list() -> None:
    """Every user with its roles and status (never a password hash)."""
    from graph.driver import open_driver
    from graph.users import list_users

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        users = list_users(driver, settings.neo4j_database)
    table = Table("username", "roles", "funder", "enterprise", "status", "created",
                  "token version")  # fmt: skip
    for u in users:
        created = f"{u.created_at:%Y-%m-%d %H:%M}" if u.created_at else "-"
        status = "disabled" if u.disabled else "active"
        table.add_row(u.username, ", ".join(u.roles), u.funder_id or "-",
                      u.enterprise_id or "-", status, created, str(u.token_version))  # fmt: skip
    Console().print(table)


@users_app.command("add-funder")
def users_add_funder(
    funder_id: str,
    name: Annotated[str, typer.Option(help="The funder's name.")],
    kind: Annotated[str, typer.Option(help="bank, factoring or finance_company.")] = "bank",
) -> None:
    """Create a funder (a bank, factoring company or finance company) with its own book;
    the same id again changes nothing."""
    from datetime import UTC, datetime

    from api.security import check_username
    from graph.driver import open_driver
    from graph.funders import save_funder
    from graph.model import FunderKind

    try:
        check_username(funder_id)  # the same alphabet as usernames: safe in ids and claims
        funder_kind = FunderKind(kind)
    except ValueError as e:
        kinds = ", ".join(k.value for k in FunderKind)
        raise fail(f"funder id must be 1-64 letters, digits, '._@-'; kind one of {kinds}") from e
    if not name.strip():
        raise fail("a funder needs a name")
    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        f, created = save_funder(driver, settings.neo4j_database, funder_id, name.strip(),
                                 funder_kind, "cli", datetime.now(UTC))  # fmt: skip
    console.print(f"funder {f.id} ({f.kind.value}, {f.name}) "
                  f"{'created' if created else 'exists already'}")  # fmt: skip


@users_app.command("funders")
def users_funders() -> None:
    """Every funder on the platform (the default funder owns the loaded book)."""
    from graph.driver import open_driver
    from graph.funders import list_funders

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        funders = list_funders(driver, settings.neo4j_database)
    table = Table("id", "kind", "name")
    for f in funders:
        table.add_row(f.id, f.kind.value, f.name)
    Console().print(table)


@users_app.command("bind")
def users_bind(
    username: str,
    funder: Annotated[str | None, typer.Option(help="The funder; omitted: none.")] = None,
    enterprise: Annotated[str | None, typer.Option(help="The enterprise; omitted: none.")] = None,
) -> None:
    """Bind a user to a funder and/or an enterprise (both omitted: unbind); its tokens stop
    working."""
    from api.security import bind
    from graph.driver import open_driver

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        try:
            found = bind(driver, settings.neo4j_database, username, funder, enterprise)
        except ValueError as e:
            raise fail(str(e)) from e
    if not found:
        raise fail(f"no user {username}")
    console.print(f"user {username} bound to funder {funder or '-'}, "
                  f"enterprise {enterprise or '-'} (older tokens revoked)")  # fmt: skip
