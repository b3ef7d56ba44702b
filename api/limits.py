"""Limits that keep one client from hurting the others: GraphQL depth, tokens, aliases and an
estimated cost per operation, bounded batches, introspection off in production, and a token
bucket per user (429 with Retry-After).

The cost estimate is static: every selected field costs 1, times the page sizes of the list
fields around it (`first`, `limit`, taken from the literal, the variable or the schema
default), plus a weight for the fields that scan the graph. It is checked right after
validation, before any resolver runs, so a rejected operation costs the database nothing.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from chainlens.settings import Environment, Settings

# Arguments that say how many items a list field returns.
SIZE_ARGUMENTS = ("first", "limit")

# Extra cost of fields whose work is not proportional to what they return: full-graph scans,
# multi-hop traversals and simulations. Keyed by "Type.field" (GraphQL names).
FIELD_WEIGHTS: Mapping[str, int] = {
    "Query.stats": 20,
    "Query.tiers": 50,
    "Query.chainView": 100,
    "Query.tradePaths": 50,
    "Query.shortestTradePath": 20,
    "Query.ownership": 20,
    "Query.controlledGroup": 20,
    "Query.relatedParties": 20,
    "Query.guaranteeCircles": 500,
    "Query.guaranteeChains": 20,
    "Query.circularTrade": 500,
    "Query.duplicatePledges": 200,
    "Query.groupExposure": 50,
    "Query.chainExposure": 100,
    "Query.prospects": 100,
    "Query.explore": 50,
    "Query.whatIf": 1000,
    "Query.productMatches": 20,
    "Query.auditEvents": 10,
}

# A list without a size argument still counts as this many items when nested.
UNSIZED_LIST_FACTOR = 1


class CostExceeded(GraphQLError):
    """The operation's estimated cost is above the configured maximum."""


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
) -> int:
    """The estimated cost of one operation of the validated document."""
    fragments = {
        d.name.value: d
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    root: GraphQLObjectType | None = {
        OperationType.QUERY: schema.query_type,
        OperationType.MUTATION: schema.mutation_type,
        OperationType.SUBSCRIPTION: schema.subscription_type,
    }[operation.operation]
    if root is None:
        return 0

    def size_of(arg_value: ValueNode | None, default: Any) -> int:
        if arg_value is None:
            value = default
        elif isinstance(arg_value, VariableNode):
            value = variables.get(arg_value.name.value, default)
        else:
            value = value_from_ast_untyped(arg_value)
        return max(int(value), 1) if isinstance(value, int) and not isinstance(value, bool) else 1

    def walk(
        selection_set: SelectionSetNode, parent: GraphQLNamedType, seen: frozenset[str]
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += field_cost(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                on = parent
                if selection.type_condition is not None:
                    on = schema.get_type(selection.type_condition.name.value) or parent
                total += walk(selection.selection_set, on, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen:  # cycles are another rule's error
                    continue
                on = schema.get_type(fragment.type_condition.name.value) or parent
                total += walk(fragment.selection_set, on, seen | {name})
        return total

    def field_cost(node: FieldNode, parent: GraphQLNamedType, seen: frozenset[str]) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 1
        definition = parent.fields.get(name)
        if definition is None:
            return 1
        cost = 1 + FIELD_WEIGHTS.get(f"{parent.name}.{name}", 0)
        if node.selection_set is None:
            return cost
        factor = UNSIZED_LIST_FACTOR
        given = {a.name.value: a.value for a in node.arguments or ()}
        for arg in SIZE_ARGUMENTS:
            if arg in definition.args:
                factor = size_of(given.get(arg), definition.args[arg].default_value)
                break
        child = get_named_type(definition.type)
        return cost + factor * walk(node.selection_set, child, seen)

    return walk(operation.selection_set, root, frozenset())


class CostCheckedValidation(ValidationCache):
    """Validation cached per document (strawberry's ValidationCache), then the cost estimate
    with this request's variables, which no cache may skip: a document that passed with
    ``first: 5`` must still be refused with ``first: 5000``."""

    def __init__(self, max_cost: int) -> None:
        super().__init__(maxsize=512)
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None  # parsed before validation
        errors = self.cached_validate_document(
            ctx.schema._schema, ctx.graphql_document, ctx.validation_rules
        )
        if not errors:
            errors = self._cost_errors(ctx.schema._schema, ctx.graphql_document, ctx.variables)
        ctx.pre_execution_errors = errors
        yield

    def _cost_errors(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> list[GraphQLError]:
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            cost = estimate_cost(schema, document, definition, variables or {})
            if cost > self.max_cost:
                name = definition.name.value if definition.name else "anonymous"
                return [
                    CostExceeded(
                        f"operation {name!r} has an estimated cost of {cost}, above the "
                        f"limit of {self.max_cost}; ask for smaller pages (first, limit)",
                        definition,
                        extensions={"code": "COST_LIMIT", "cost": cost, "limit": self.max_cost},
                    )
                ]
        return []


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions that enforce the limits of ``settings`` (one instance a request).

    Parsing and validation are cached per document: validating the enterprise card's small
    query took 40 % of the API's CPU. That is sound because every rule that validation runs
    depends on the document alone: the depth and alias rules are built once here (a limiter
    instance per request would make new rule classes, a new cache key every time), and the
    cost estimate, which depends on the variables, runs on every request after validation.
    A document over the token limit never parses, so it never enters either cache.
    """
    document_rules = [
        *QueryDepthLimiter(max_depth=settings.graphql_max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.graphql_max_aliases).validation_rules,
    ]
    if settings.environment is Environment.PRODUCTION:
        document_rules += DisableIntrospection().validation_rules
    return [
        lambda: ParserCache(maxsize=512),  # one instance a request, one shared LRU
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(document_rules),
        lambda: CostCheckedValidation(settings.graphql_max_cost),
    ]


# ---- rate limits ---------------------------------------------------------------------------
@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimited(Exception):
    """Too many requests from one user; retry after ``retry_after`` seconds."""

    http_status = 429

    def __init__(self, key: str, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded for {key}; retry in {math.ceil(retry_after)} s")
        self.key = key
        self.retry_after = retry_after


class RateLimiter:
    """A token bucket per key (the username), refilled continuously, in process.

    ``per_minute`` is the sustained rate and ``burst`` the bucket size. Behind several API
    processes each enforces its own buckets, so the effective limit scales with the processes
    (docs/api.md); a shared store would be the next step.
    """

    def __init__(
        self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(max(burst, 1))
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens for ``key`` or raise RateLimited with the wait."""
        self._take(key, cost, consume=True)

    def check(self, key: str) -> None:
        """Raise RateLimited when ``key`` has no token left, without taking one."""
        self._take(key, 1.0, consume=False)

    def _take(self, key: str, cost: float, consume: bool) -> None:
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= 100_000:  # forget full (idle) buckets, not grow forever
                    self._buckets = {
                        k: b for k, b in self._buckets.items() if b.tokens < self.burst
                    }
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= cost:
                if consume:
                    bucket.tokens -= cost
                return
            missing = cost - bucket.tokens
        raise RateLimited(key, missing / self.rate if self.rate > 0 else 60.0)
