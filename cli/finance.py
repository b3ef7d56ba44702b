"""`chainlens finance`: end of day, line expiry, the trial balance, disbursement, credit
lines (grant, limit, freeze, list) and settlement deposits and withdrawals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from cli.common import console, ensure_neo4j, fail, iso_day, load_settings, refuse
from graph.errors import GraphError

if TYPE_CHECKING:
    from neo4j import Driver

finance_app = typer.Typer(
    help="Finance: end of day, disbursement, credit lines, settlement deposits and "
    "withdrawals, line expiry, trial balance.",
    no_args_is_help=True,
)


@finance_app.command("eod")
def finance_eod(
    as_of: Annotated[str | None, typer.Option(help="ISO date; default today (UTC).")] = None,
) -> None:
    """End of day: expire undrawn approvals, accrue interest, then days past due, penalties,
    five-tier class, provisions; alerts for financings maturing within a week or overdue;
    then the post-loan rule set's early warnings."""
    from datetime import UTC, date, datetime

    from decisions.postloan import end_of_day_rules
    from finance.postloan import end_of_day
    from graph.driver import open_driver

    day = date.fromisoformat(as_of) if as_of else datetime.now(UTC).date()
    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        run = end_of_day(driver, settings.neo4j_database, day, end_of_day_rules)
    console.print(
        f"{day}: expired {run.expired} undrawn approvals, accrued {run.accrued} financings,"
        f" reviewed delinquency of {run.reviewed}; {run.maturity_warnings} new maturity"
        f" warnings, {run.overdue_alerts} new overdue alerts, {run.early_warnings} new early"
        f" warnings (post-loan rules); {run.overdue_vouchers} voucher pieces overdue,"
        f" {run.voucher_alerts} new voucher alerts"
    )


@finance_app.command("expire-lines")
def finance_expire_lines(
    today: Annotated[str | None, typer.Option(help="ISO date; default today (UTC).")] = None,
) -> None:
    """Expire credit lines whose end date has passed."""
    from datetime import UTC, date, datetime

    from finance.credit_lines import expire_lines
    from graph.driver import open_driver

    day = date.fromisoformat(today) if today else datetime.now(UTC).date()
    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        expired = expire_lines(driver, settings.neo4j_database, day)
    console.print(
        f"{len(expired)} credit lines expired" + (f": {', '.join(expired)}" if expired else "")
    )


@finance_app.command("trial-balance")
def finance_trial_balance(
    currency: Annotated[str | None, typer.Option()] = None,
    funder: Annotated[str | None, typer.Option(
        help="One funder's book (`default` for the platform's own); every account without.")
    ] = None,
) -> None:  # fmt: skip
    """Posted debits and credits per chart-of-accounts code; debits must equal credits."""
    from finance.ledger import trial_balance
    from graph.driver import open_driver

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        tb = trial_balance(driver, settings.neo4j_database, currency, funder)
    title = "trial balance (minor units)" + (f" of {funder}" if funder else "")
    table = Table("code", "kind", "debits", "credits", "balance", title=title)
    for line in tb.lines:
        table.add_row(
            line.code, line.kind, f"{line.debits:,}", f"{line.credits:,}", f"{line.balance:,}"
        )
    table.add_row("total", "", f"{tb.total_debits:,}", f"{tb.total_credits:,}", "")
    Console().print(table)
    if not tb.balanced:
        raise fail("the ledger does not balance")


@finance_app.command("disburse")
def finance_disburse(
    financing_id: Annotated[str, typer.Argument(metavar="FINANCING")],
    on: Annotated[str | None, typer.Option(help="Value date, YYYY-MM-DD; default today.")] = None,
) -> None:
    """Pay out a contracted financing, as the API's `disburse` does: the disbursement rule set
    in force runs first on the borrower's indicators read now, and a declining rule refuses
    the payment (exit code 2, with its reasons); nothing is paid then."""
    from datetime import UTC, datetime

    from decisions.disbursement import disburse

    day = iso_day(on, "--on") if on else datetime.now(UTC).date()
    with _credit_admin() as (driver, database):
        fin = disburse(driver, database, financing_id, day)
    Console().print(
        f"{fin.id} disbursed on {day}: {fin.status}, {fin.outstanding_minor:,} {fin.currency} "
        f"outstanding, maturity {fin.maturity_on}"
    )


line_app = typer.Typer(
    help="Credit lines: grant, change the limit, freeze, unfreeze, list.", no_args_is_help=True
)
finance_app.add_typer(line_app, name="line")


@contextmanager
def _credit_admin() -> Iterator[tuple[Driver, str]]:
    """The driver for a credit-administration command; domain refusals exit with code 2."""
    from decisions.errors import DecisionsError
    from finance.errors import FinanceError
    from graph.driver import open_driver

    settings = load_settings()
    ensure_neo4j(settings)
    with open_driver(settings) as driver:
        try:
            yield driver, settings.neo4j_database
        except (FinanceError, DecisionsError, GraphError) as e:
            if getattr(e, "http_status", 500) >= 500:
                raise fail(str(e)) from e
            raise refuse(str(e)) from e


def _print_lines(driver: Driver, database: str, ids: list[str], title: str) -> None:
    from api.graphql.credit import read_lines

    table = Table(
        "line", "kind", "tier", "granted to", "part of", "status", "limit", "used", "held",
        "available", "expires", title=f"{title} (minor units)",
    )  # fmt: skip
    for x in read_lines(driver, database, ids):
        table.add_row(
            str(x.id), x.kind, str(x.tier or ""), str(x.enterprise_id or ""),
            str(x.parent_id or ""), x.status, f"{x.limit:,}", f"{x.used:,}", f"{x.held:,}",
            f"{x.available:,}", str(x.expires_on or ""),
        )  # fmt: skip
    Console().print(table)


@line_app.command("grant")
def finance_line_grant(
    line_id: Annotated[str, typer.Argument(metavar="ID")],
    enterprise: Annotated[str, typer.Option(help="Granted to (a tier line: the core).")],
    kind: Annotated[str, typer.Option(help="group, enterprise, supply_chain, tier, product.")],
    limit: Annotated[int, typer.Option(help="Limit in minor units (fen).")],
    expires: Annotated[str, typer.Option(help="Expiry date, YYYY-MM-DD.")],
    currency: Annotated[str, typer.Option()] = "CNY",
    parent: Annotated[str | None, typer.Option(help="The line it is part of.")] = None,
    product: Annotated[str | None, typer.Option(help="Product of a product sub-limit.")] = None,
    tier: Annotated[int | None, typer.Option(help="1-5, for a tier sub-limit.")] = None,
) -> None:
    """Grant a credit line and fund its limit in the ledger (the same id again: no change).
    The admission rules run first on the enterprise: a decline refuses the line, a referral
    (like a line above CHAINLENS_CREDIT_LINE_FOUR_EYES_MINOR) needs two people: propose it
    through the API (proposeCreditLine) for another admin to approve."""
    from decisions.admission import check_grant
    from finance.administration import grant, line_spec
    from finance.errors import FinanceError

    try:
        spec = line_spec(
            id=line_id, enterprise_id=enterprise, kind=kind, limit=limit, currency=currency,
            expires_on=iso_day(expires, "--expires"), parent_id=parent, product_id=product,
            tier=tier,
        )  # fmt: skip
    except FinanceError as e:
        raise refuse(str(e)) from e
    with _credit_admin() as (driver, database):
        four_eyes = load_settings().credit_line_four_eyes_minor
        check_grant(driver, database, spec, four_eyes_minor=four_eyes)
        grant(driver, database, spec, four_eyes)
        _print_lines(driver, database, [line_id], "granted")


@line_app.command("limit")
def finance_line_limit(
    line_id: Annotated[str, typer.Argument(metavar="ID")],
    new_limit: Annotated[int, typer.Argument(metavar="NEW", help="New limit, minor units.")],
    request_id: Annotated[str, typer.Option(help="Idempotency key: a retry changes nothing.")],
) -> None:
    """Raise or cut a line's limit; a cut below what is used or held is refused."""
    from finance.administration import change_limit

    with _credit_admin() as (driver, database):
        change_limit(driver, database, line_id, new_limit, request_id,
                     load_settings().credit_line_four_eyes_minor)  # fmt: skip
        _print_lines(driver, database, [line_id], "limit changed")


def _set_frozen(line_id: str, frozen: bool, reason: str) -> None:
    from finance.administration import set_frozen

    with _credit_admin() as (driver, database):
        set_frozen(driver, database, line_id, frozen, reason)
        _print_lines(driver, database, [line_id], "frozen" if frozen else "unfrozen")


@line_app.command("freeze")
def finance_line_freeze(
    line_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why (kept on the line).")],
) -> None:
    """Freeze a line: nothing new may occupy it or any line below it."""
    _set_frozen(line_id, True, reason)


@line_app.command("unfreeze")
def finance_line_unfreeze(
    line_id: Annotated[str, typer.Argument(metavar="ID")],
    reason: Annotated[str, typer.Option(help="Why (kept on the line).")],
) -> None:
    """Unfreeze a frozen line."""
    _set_frozen(line_id, False, reason)


@line_app.command("list")
def finance_line_list(
    enterprise: Annotated[str | None, typer.Option(help="Lines granted to it.")] = None,
    core: Annotated[str | None, typer.Option(help="A core's chain: its supply-chain lines "
                                             "and every line part of them.")] = None,
) -> None:  # fmt: skip
    """Credit lines with their limit, use, holds and availability (at most 200)."""
    from graph.queries.lists import credit_lines

    if enterprise is None and core is None:
        raise refuse("name --enterprise or --core")
    with _credit_admin() as (driver, database):
        found = credit_lines(
            driver, database, skip=0, limit=200, enterprise_id=enterprise, core_id=core,
            kind=None, statuses=None,
        )  # fmt: skip
        ids = [r["line"]["id"] for r in found.rows]
        _print_lines(driver, database, ids, f"{found.total} credit lines")


def _settle(deposit: bool, enterprise: str, amount: int, request_id: str, currency: str) -> None:
    from finance.administration import move

    with _credit_admin() as (driver, database):
        m = move(
            driver, database, deposit=deposit, enterprise_id=enterprise, amount=amount,
            currency=currency, request_id=request_id,
        )  # fmt: skip
    what = "deposited to" if deposit else "withdrawn from"
    Console().print(
        f"{m.amount_minor:,} {m.currency} {what} {m.account_id} (transfer {m.transfer_id}); "
        f"balance {m.balance_minor:,}"
    )


@finance_app.command("deposit")
def finance_deposit(
    enterprise: Annotated[str, typer.Argument(metavar="ENTERPRISE")],
    amount: Annotated[int, typer.Argument(metavar="AMOUNT", help="Minor units (fen).")],
    request_id: Annotated[str, typer.Option(help="Idempotency key: a retry moves nothing.")],
    currency: Annotated[str, typer.Option()] = "CNY",
) -> None:
    """Money received for an enterprise: cash in, its settlement account credited."""
    _settle(True, enterprise, amount, request_id, currency)


@finance_app.command("withdraw")
def finance_withdraw(
    enterprise: Annotated[str, typer.Argument(metavar="ENTERPRISE")],
    amount: Annotated[int, typer.Argument(metavar="AMOUNT", help="Minor units (fen).")],
    request_id: Annotated[str, typer.Option(help="Idempotency key: a retry moves nothing.")],
    currency: Annotated[str, typer.Option()] = "CNY",
) -> None:
    """Money paid out of an enterprise's settlement account; refused beyond what it holds."""
    _settle(False, enterprise, amount, request_id, currency)
