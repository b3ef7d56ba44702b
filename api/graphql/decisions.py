"""Decisions over GraphQL: the indicator catalogue and an application's indicator values,
rule sets (JSON Decision Models) with their life cycle — draft, simulate, publish by a
second officer with an effective time, retire."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import Enum
from typing import Annotated, cast

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.scalars import JSON
from strawberry.types import Info

from api.graphql.context import Context
from api.graphql.permissions import READERS, requires
from api.graphql.scalars import BigInt
from api.security import Role
from decisions import admission as da
from decisions import indicators as di
from decisions import lifecycle as dl
from decisions import postloan as dp
from decisions.engine import STAGES, stage_of
from decisions.errors import DecisionsError

# Risk staff: credit officers draft, publish and retire; analysts read and simulate too.
RULE_READERS = (Role.CREDIT_OFFICER, Role.ANALYST)
RULE_EDITORS = (Role.CREDIT_OFFICER,)
INDICATOR_READERS = (Role.CREDIT_OFFICER, Role.ANALYST, Role.RELATIONSHIP_MANAGER, Role.SERVICE)


@strawberry.type(description="An indicator of the catalogue: what rules may read.")
class IndicatorDefinition:
    name: str
    type: str
    unit: str | None
    source: str
    description: str
    nullable: bool
    freshness: str = strawberry.field(description="As of when its value holds.")


@strawberry.type(description="An indicator's value for one application, JSON-encoded.")
class IndicatorValue:
    name: str
    type: str
    unit: str | None
    value: str = strawberry.field(description="The value as JSON (number, string, list...).")


@strawberry.type(description="A version of a rule set and where it is in its life cycle.")
class RuleSet:
    id: strawberry.ID
    name: str
    version: int
    status: str
    content: str = strawberry.field(description="The JSON Decision Model.")
    note: str
    author: str
    created_at: datetime
    publisher: str | None
    published_at: datetime | None
    effective_at: datetime | None
    retired_by: str | None
    retired_at: datetime | None
    challenger_share: float | None = strawberry.field(
        description="The share of live applications it runs on as challenger (status "
        "challenger), or ran on.")

    @classmethod
    def of(cls, v: dl.RuleSetVersion) -> RuleSet:
        return cls(
            id=strawberry.ID(v.id), name=v.name, version=v.version, status=v.status,
            content=v.content, note=v.note or "", author=v.author, created_at=v.created_at,
            publisher=v.publisher, published_at=v.published_at, effective_at=v.effective_at,
            retired_by=v.retired_by, retired_at=v.retired_at,
            challenger_share=v.challenger_share,
        )  # fmt: skip


@strawberry.type(description="A past decision whose verdict the simulated rule set changes.")
class FlippedDecision:
    application_id: strawberry.ID
    enterprise_id: strawberry.ID
    product_id: str
    decided_by: str
    recorded_verdict: str
    recorded_amount: BigInt
    verdict: str
    amount: BigInt
    reasons: list[str]
    rules: list[str]


@strawberry.type(description="A count per key.")
class KeyCount:
    key: str
    count: int


@strawberry.type(description="What a rule set would have decided on past applications.")
class RuleSetSimulation:
    rule_set: str
    applications: int
    skipped: int = strawberry.field(description="Decisions recorded without usable inputs.")
    flipped: list[FlippedDecision]
    amount_changed: int
    verdicts: list[KeyCount]
    rule_hits: list[KeyCount]


@strawberry.type(description="What drafting a content would say, with nothing stored.")
class RuleSetCheck:
    ok: bool
    problems: list[str] = strawberry.field(description="Every reason it would be refused.")
    tables: int = strawberry.field(description="Decision tables, when accepted.")
    rules: int = strawberry.field(description="Rows of those tables, when accepted.")


@strawberry.type(description="A rule set name and what decides under it now.")
class RuleSetInForce:
    name: str
    stage: str = strawberry.field(description="The stage whose indicators it reads.")
    label: str | None = strawberry.field(description="As decisions record it (rules:NAME@"
                                         "VERSION, @shipped for the package's); null when "
                                         "only drafts exist.")  # fmt: skip
    content: str | None = strawberry.field(description="The JSON Decision Model in force.")
    version: RuleSet | None = strawberry.field(description="The published version in force; "
                                               "null while the shipped one is.")  # fmt: skip


@strawberry.type(description="Decisions of one arm of a challenge counted by one version's "
                 "verdict.")  # fmt: skip
class ArmVerdictCount:
    arm: str = strawberry.field(description="champion or challenger: the application's arm.")
    rule_set: str = strawberry.field(description="The version whose verdict is counted.")
    verdict: str
    count: int


@strawberry.type(description="A decision on the challenger's arm where its verdict differs "
                 "from the champion's (which decided).")  # fmt: skip
class ChallengeDifference:
    application_id: strawberry.ID
    enterprise_id: strawberry.ID
    product_id: str
    decided_at: datetime
    champion: str
    verdict: str
    amount: BigInt
    reasons: list[str]
    rules: list[str]
    challenger: str
    challenger_verdict: str
    challenger_amount: BigInt
    challenger_reasons: list[str]
    challenger_rules: list[str]


@strawberry.type(description="A challenger against the champions it ran beside, from the "
                 "recorded decisions.")  # fmt: skip
class ChallengerComparison:
    challenger: str = strawberry.field(description="rules:NAME@VERSION")
    share: float | None
    running: bool
    decisions: int = strawberry.field(description="Decisions made while it ran, both arms.")
    counts: list[ArmVerdictCount]
    differences: list[ChallengeDifference]


@strawberry.enum(description="The width of a bucket of decisionRates.")
class RateBucketWidth(Enum):
    DAY = "day"
    WEEK = "week"


@strawberry.type(description="How often one rule fired in a bucket.")
class RuleHitRate:
    rule: str
    hits: int
    rate: float = strawberry.field(description="Hits per decision that recorded its rules.")


@strawberry.type(description="A rule set's automatic decisions in one day or week.")
class DecisionRates:
    start: date = strawberry.field(description="The bucket's first day (a Monday for weeks).")
    decisions: int
    approved: int
    referred: int
    declined: int
    approval_rate: float
    referral_rate: float
    decline_rate: float
    with_rules: int = strawberry.field(description="Decisions that recorded the rows that "
                                       "fired: the base of the hit rates.")  # fmt: skip
    rule_hits: list[RuleHitRate]


@strawberry.type(description="Whether an enterprise may be a borrower (准入): the admission "
                 "rule set in force on its own indicators.")  # fmt: skip
class AdmissionAssessment:
    enterprise_id: strawberry.ID
    rule_set: str = strawberry.field(description="rules:admission@VERSION")
    verdict: str = strawberry.field(description="admit, refer (a line needs a second admin: "
                                    "propose it) or decline (no line may be granted).")  # fmt: skip
    reasons: list[str] = strawberry.field(description="Declines, then referrals, then notes.")
    rules: list[str] = strawberry.field(description="The rows that fired.")
    indicators: list[IndicatorValue]


@strawberry.type(description="An early warning a post-loan rule set would raise.")
class SimulatedWarning:
    financing_id: strawberry.ID
    rule: str
    reason: str


@strawberry.type(description="A post-loan rule set run over the current portfolio, writing "
                 "nothing: the alerts it would raise and how often each rule fires.")  # fmt: skip
class PostloanSimulation:
    rule_set: str = strawberry.field(description="rules:postloan@VERSION, or @unsaved.")
    as_of: date
    financings: int = strawberry.field(description="Financings with money out evaluated.")
    rule_hits: list[KeyCount] = strawberry.field(
        description="Financings each rule fires on (alert and note rows).")
    warnings: list[SimulatedWarning]


def _comparison(c: dl.Comparison) -> ChallengerComparison:
    return ChallengerComparison(
        challenger=c.challenger, share=c.share, running=c.running, decisions=c.decisions,
        counts=[ArmVerdictCount(arm=a.arm, rule_set=a.rule_set, verdict=a.verdict,
                                count=a.count) for a in c.counts],
        differences=[
            ChallengeDifference(
                application_id=strawberry.ID(d.application_id),
                enterprise_id=strawberry.ID(d.enterprise_id), product_id=d.product_id,
                decided_at=d.decided_at, champion=d.champion, verdict=d.verdict,
                amount=BigInt(d.amount_minor), reasons=d.reasons, rules=d.rules,
                challenger=d.challenger, challenger_verdict=d.challenger_verdict,
                challenger_amount=BigInt(d.challenger_amount_minor),
                challenger_reasons=d.challenger_reasons, challenger_rules=d.challenger_rules,
            )
            for d in c.differences
        ],
    )  # fmt: skip


def _text(content: object) -> str | None:
    """A JSON Decision Model sent as a JSON value (an object, so that no single string
    argument outgrows the API's limit), stored as its text."""
    return None if content is None else json.dumps(content, ensure_ascii=False)


def _counts(d: dict[str, int]) -> list[KeyCount]:
    return [KeyCount(key=k, count=n) for k, n in sorted(d.items())]


@strawberry.type
class DecisionsQuery:
    @strawberry.field(extensions=requires(*READERS),
                      description="Every indicator a rule of a stage may read, declared once "
                      "(stage: approval, the default, which disbursement rules read too; "
                      "admission; or postloan).")  # fmt: skip
    def indicator_catalogue(self, stage: str = "approval") -> list[IndicatorDefinition]:
        if stage not in STAGES:
            raise DecisionsError(f"stage must be one of {', '.join(sorted(STAGES))}")
        return [
            IndicatorDefinition(
                name=i.name,
                type=i.type,
                unit=i.unit,
                source=i.source,
                description=i.description,
                nullable=i.nullable,
                freshness=i.freshness,
            )
            for i in STAGES[stage].catalogue.values()
        ]

    @strawberry.field(extensions=requires(*INDICATOR_READERS),
                      description="The indicators of an enterprise applying for a product, "
                      "read from the graph now, or as of `at` where the records have times "
                      "(collateral value: what it could pledge unless given; collateralIds: "
                      "the invoices or assets offered, for the registry conflicts, documents "
                      "and four-flow score).")  # fmt: skip
    async def indicators(
        self, info: Info[Context, None], enterprise_id: strawberry.ID,
        product_id: strawberry.ID, amount: BigInt, collateral_value: BigInt | None = None,
        currency: str = "CNY", collateral_ids: list[strawberry.ID] | None = None,
        at: datetime | None = None,
    ) -> list[IndicatorValue]:  # fmt: skip
        if at is not None and at.tzinfo is None:
            raise DecisionsError("at needs a timezone")
        values = cast(dict[str, object], await info.context.call(
            di.compute, str(enterprise_id), str(product_id), int(amount),
            None if collateral_value is None else int(collateral_value), currency,
            None if at is None else at.date(), [str(c) for c in collateral_ids or []],
            info.context.user.writes_for, at,
        ))  # fmt: skip
        return [
            IndicatorValue(
                name=i.name,
                type=i.type,
                unit=i.unit,
                value=json.dumps(values.get(i.name), ensure_ascii=False),
            )
            for i in di.CATALOGUE
        ]

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="Rule set versions, newest first (of one name if "
                      "given).")  # fmt: skip
    async def rule_sets(self, info: Info[Context, None], name: str | None = None) -> list[RuleSet]:
        found = cast(list[dl.RuleSetVersion], await info.context.call(dl.list_versions, name))
        return [RuleSet.of(v) for v in found]

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="Every rule set name (shipped or drafted) with the content "
                      "in force now: what the rule editor opens.")  # fmt: skip
    async def rule_sets_in_force(self, info: Info[Context, None]) -> list[RuleSetInForce]:
        found = cast(list[dl.InForce], await info.context.call(dl.all_in_force))
        return [
            RuleSetInForce(
                name=f.name,
                stage=stage_of(f.name).name,
                label=f.label,
                content=f.content,
                version=None if f.version is None else RuleSet.of(f.version),
            )
            for f in found
        ]

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="Check a rule set content (a JSON Decision Model sent as a "
                      "JSON object) as draftRuleSet would, storing nothing: every problem, or "
                      "none.")  # fmt: skip
    async def validate_rule_set(self, name: str, content: JSON) -> RuleSetCheck:
        c = await run_in_threadpool(dl.check, name, _text(content) or "null")
        return RuleSetCheck(ok=not c.problems, problems=c.problems, tables=c.tables,
                            rules=c.rules)  # fmt: skip

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="Run a rule set version (or unsaved content) on the inputs "
                      "of the latest automatic decisions; lists the flipped ones.")  # fmt: skip
    async def simulate_rule_set(
        self, info: Info[Context, None], id: strawberry.ID | None = None,
        content: JSON | None = None, limit: int = 1000,
    ) -> RuleSetSimulation:  # fmt: skip
        if not 1 <= limit <= 10_000:
            raise DecisionsError("limit must be between 1 and 10000")
        s = cast(dl.Simulation, await info.context.call(
            dl.simulate, None if id is None else str(id), _text(content), limit))  # fmt: skip
        return RuleSetSimulation(
            rule_set=s.rule_set, applications=s.applications, skipped=s.skipped,
            amount_changed=s.amount_changed, verdicts=_counts(s.verdicts),
            rule_hits=_counts(s.rule_hits),
            flipped=[
                FlippedDecision(
                    application_id=strawberry.ID(f.application_id),
                    enterprise_id=strawberry.ID(f.enterprise_id), product_id=f.product_id,
                    decided_by=f.decided_by, recorded_verdict=f.recorded_verdict,
                    recorded_amount=BigInt(f.recorded_amount_minor), verdict=f.verdict,
                    amount=BigInt(f.amount_minor), reasons=f.reasons, rules=f.rules,
                )
                for f in s.flipped
            ],
        )  # fmt: skip

    @strawberry.field(extensions=requires(*INDICATOR_READERS),
                      description="Admission (准入): the admission rule set in force on an "
                      "enterprise's own indicators, read now (or as of `at` where the records "
                      "have times). grantCreditLine and proposeCreditLine run it: a decline "
                      "refuses the line, a referral needs a proposal. Nothing is "
                      "written.")  # fmt: skip
    async def admission(
        self, info: Info[Context, None], enterprise_id: strawberry.ID, at: datetime | None = None,
    ) -> AdmissionAssessment:  # fmt: skip
        if at is not None and at.tzinfo is None:
            raise DecisionsError("at needs a timezone")
        a = cast(da.Admission, await info.context.call(
            da.assess, str(enterprise_id), info.context.user.writes_for, at, False))  # fmt: skip
        return AdmissionAssessment(
            enterprise_id=strawberry.ID(a.enterprise_id), rule_set=a.rule_set,
            verdict=a.verdict, reasons=list(a.reasons), rules=list(a.rules),
            indicators=[
                IndicatorValue(name=i.name, type=i.type, unit=i.unit,
                               value=json.dumps(a.indicators.get(i.name), ensure_ascii=False))
                for i in di.ADMISSION_BY_NAME.values()
            ],
        )  # fmt: skip

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="Run a post-loan rule set version (or unsaved content) over "
                      "the current portfolio as of a day (today): the early warnings it "
                      "would raise. Nothing is written or counted.")  # fmt: skip
    async def simulate_postloan_rules(
        self, info: Info[Context, None], id: strawberry.ID | None = None,
        content: JSON | None = None, as_of: date | None = None,
    ) -> PostloanSimulation:  # fmt: skip
        version = None if id is None else str(id)
        s = cast(dp.PortfolioSimulation, await info.context.call(
            dp.simulate_version, version, _text(content), as_of))  # fmt: skip
        return PostloanSimulation(
            rule_set=s.rule_set, as_of=s.as_of, financings=s.financings,
            rule_hits=_counts(s.hits),
            warnings=[SimulatedWarning(financing_id=strawberry.ID(f), rule=r, reason=why)
                      for f, r, why in s.alerts],
        )  # fmt: skip

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="A challenger (a rule set version run beside the one in "
                      "force on a share of live applications) compared with the champion on "
                      "the decisions recorded while it ran: counts by verdict per arm, and "
                      "the decisions where the two verdicts differ, newest first.")  # fmt: skip
    async def challenger_comparison(
        self, info: Info[Context, None], id: strawberry.ID, first: int = 100
    ) -> ChallengerComparison:
        if not 1 <= first <= 1000:
            raise DecisionsError("first must be between 1 and 1000")
        c = await info.context.call(dl.compare, str(id), first)
        return _comparison(cast(dl.Comparison, c))

    @strawberry.field(extensions=requires(*RULE_READERS),
                      description="Per day or week of [from, to): the automatic decisions "
                      "made by a version of rule set `name`, approval, referral and decline "
                      "rates, and each rule's hit rate, from the stored decisions.")  # fmt: skip
    async def decision_rates(
        self, info: Info[Context, None],
        from_: Annotated[datetime, strawberry.argument(name="from")], to: datetime,
        name: str = "approval",
        bucket: RateBucketWidth = RateBucketWidth.DAY,
    ) -> list[DecisionRates]:  # fmt: skip
        found = cast(list[dl.RateBucket], await info.context.call(
            dl.rates, name, from_, to, bucket.value))  # fmt: skip
        return [
            DecisionRates(
                start=b.start, decisions=b.decisions, approved=b.approved,
                referred=b.referred, declined=b.declined,
                approval_rate=b.rate(b.approved), referral_rate=b.rate(b.referred),
                decline_rate=b.rate(b.declined), with_rules=b.with_rules,
                rule_hits=[RuleHitRate(rule=r.rule, hits=r.hits, rate=r.rate)
                           for r in b.rules],
            )
            for b in found
        ]  # fmt: skip


@strawberry.type
class DecisionsMutation:
    @strawberry.mutation(extensions=requires(*RULE_EDITORS),
                         description="Store a new version of a rule set (a JSON Decision "
                         "Model, sent as a JSON object) as a draft; refused with every "
                         "problem listed when the engine or the catalogue rejects it.")  # fmt: skip
    async def draft_rule_set(
        self, info: Info[Context, None], name: str, content: JSON, note: str = ""
    ) -> RuleSet:
        v = await info.context.call(
            dl.draft, name, _text(content), info.context.user.username, note
        )
        return RuleSet.of(cast(dl.RuleSetVersion, v))

    @strawberry.mutation(extensions=requires(*RULE_EDITORS),
                         description="Publish a draft (not your own), in force from "
                         "effectiveAt (now when omitted; never in the past).")  # fmt: skip
    async def publish_rule_set(
        self, info: Info[Context, None], id: strawberry.ID, effective_at: datetime | None = None
    ) -> RuleSet:
        v = await info.context.call(dl.publish, str(id), info.context.user.username,
                                    effective_at)  # fmt: skip
        return RuleSet.of(cast(dl.RuleSetVersion, v))

    @strawberry.mutation(extensions=requires(*RULE_EDITORS),
                         description="Take a published version out of force now.")  # fmt: skip
    async def retire_rule_set(
        self, info: Info[Context, None], id: strawberry.ID, note: str = ""
    ) -> RuleSet:
        v = await info.context.call(dl.retire, str(id), info.context.user.username, note)
        return RuleSet.of(cast(dl.RuleSetVersion, v))

    @strawberry.mutation(extensions=requires(*RULE_EDITORS),
                         description="Run a draft (not your own) as the challenger of its "
                         "rule set on a share (0 < share <= 1) of live applications, chosen "
                         "by a hash of the application id: the version in force still "
                         "decides; the challenger's verdict is recorded beside it.")  # fmt: skip
    async def start_challenger(
        self, info: Info[Context, None], id: strawberry.ID, share: float
    ) -> RuleSet:
        v = await info.context.call(dl.start_challenger, str(id), info.context.user.username,
                                    share)  # fmt: skip
        return RuleSet.of(cast(dl.RuleSetVersion, v))

    @strawberry.mutation(extensions=requires(*RULE_EDITORS),
                         description="Stop the challenger of a rule set name: it is a draft "
                         "again; the decisions keep what it recorded.")  # fmt: skip
    async def stop_challenger(self, info: Info[Context, None], name: str) -> RuleSet:
        v = await info.context.call(dl.stop_challenger, name, info.context.user.username)
        return RuleSet.of(cast(dl.RuleSetVersion, v))
