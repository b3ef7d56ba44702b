"""The financing life cycle as guarded state machines.

application (relationship manager or service) -> automatic decision with reasons ->
[maker-checker review when policy refers it] -> financing approved (credit line held,
collateral pledged) -> contract -> disbursement -> daily accrual -> partial / full / early
repayment -> maturity -> overdue with days past due and penalty interest -> five-tier
classification and provisions -> write-off.

Each step is ONE `execute_write`: the financing node is locked first (so concurrent steps
serialise), its state checked against the transition table, and the graph change and its
ledger postings committed together. Step ids make every money movement idempotent.

Modules: `states` (statuses, transitions, types and their readers), `applications`
(submission, decision, review, approval), `financings` (contract, cancellation,
disbursement), `accrual`, `servicing` (repayment, delinquency, write-off), `eod` (the daily
job). Everything a caller needs is importable from `finance.lifecycle`.
"""

from finance.lifecycle.accrual import accrue, accrue_all
from finance.lifecycle.applications import review_application, submit_application
from finance.lifecycle.eod import DailyRun, expire_approvals, run_daily
from finance.lifecycle.financings import cancel, disburse, sign_contract
from finance.lifecycle.servicing import Repayment, repay, update_delinquency, write_off
from finance.lifecycle.states import (
    APP_TRANSITIONS,
    APPLICANT_ROLES,
    APPROVAL_VALID_DAYS,
    CHECKER_ROLES,
    FIN_TRANSITIONS,
    OWN_LENDER,
    PROVISION_BPS,
    Application,
    ApplicationCreate,
    AppStatus,
    Financing,
    FinStatus,
    ReviewTerms,
    _app,
    _fin,
    classify,
    decisions,
    get_application,
    get_financing,
    ledger_accounts,
    require_serviced,
    require_state,
)
from graph.model import RiskClass

__all__ = [
    "APPLICANT_ROLES", "APPROVAL_VALID_DAYS", "APP_TRANSITIONS", "CHECKER_ROLES",
    "FIN_TRANSITIONS", "OWN_LENDER", "PROVISION_BPS", "AppStatus", "Application",
    "ApplicationCreate", "DailyRun", "FinStatus", "Financing", "Repayment", "ReviewTerms",
    "RiskClass", "_app", "_fin", "accrue", "accrue_all", "cancel", "classify", "decisions",
    "disburse", "expire_approvals", "get_application", "get_financing", "ledger_accounts", "repay",
    "require_serviced", "require_state", "review_application", "run_daily", "sign_contract",
    "submit_application", "update_delinquency", "write_off",
]  # fmt: skip
