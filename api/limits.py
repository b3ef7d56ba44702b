"""Limits that keep one client from hurting the others: GraphQL depth, tokens, aliases and an
estimated cost per operation, bounded batches, introspection off in production, and a token
bucket per user (429 with Retry-After).

The cost estimate is static: every selected field costs 1, times the page sizes of the list
fields around it (`first`, `limit`, taken from the literal, the variable or the schema
default), plus a weight for the fields that scan the graph. It is checked right after
validation, before any resolver runs, so a rejected operation costs the database nothing.
Each user also has a budget of estimated cost per minute (`CHAINLENS_GRAPHQL_COST_PER_MINUTE`,
a token bucket) that operations of at least `CHAINLENS_GRAPHQL_COST_BUDGET_FROM` spend: one
client sending the heaviest operations the limit allows is slowed to that rate (429,
RATE_LIMITED, with Retry-After) instead of taking the database from others.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ArgumentNode,
    ASTValidationRule,
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
    ListValueNode,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    ValidationContext,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send
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

from api.graphql.scalars import currency_problem
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


def _int_arg(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _explore_weight(arg: Callable[[str], Any]) -> int:
    """The traversal grows with the nodes it may reach times the hops it may take.
    Calibrated on the issue-25 probe of the 20k-enterprise demo: ``explore(maxNodes: 20000,
    hops: 4)`` ran 3.3 s; at 0.4 unit a node-hop it costs 32,000, above the default limit of
    20,000 (about 2 s of database time), while the explorer's default call (500 nodes, 1 hop)
    costs 200."""
    nodes = max(_int_arg(arg("maxNodes"), 500), 1)
    hops = max(_int_arg(arg("hops"), 1), 1)
    return nodes * hops * 2 // 5


# Extra cost that depends on a field's arguments (the work it may do, not the size of what
# it returns), keyed like FIELD_WEIGHTS; ``arg(name)`` is the argument's value (literal,
# variable or schema default).
ARGUMENT_WEIGHTS: Mapping[str, Callable[[Callable[[str], Any]], int]] = {
    "Query.explore": _explore_weight,
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
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
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
        key = f"{parent.name}.{name}"
        cost = 1 + FIELD_WEIGHTS.get(key, 0)
        given = {a.name.value: a.value for a in node.arguments or ()}
        weigh = ARGUMENT_WEIGHTS.get(key)
        if weigh is not None:

            def arg_of(arg_name: str) -> Any:
                value = given.get(arg_name)
                if value is None:
                    known = definition.args.get(arg_name)
                    return None if known is None else known.default_value
                if isinstance(value, VariableNode):
                    return variables.get(value.name.value)
                return value_from_ast_untyped(value)

            cost += weigh(arg_of)
        if node.selection_set is None:
            return cost
        factor = UNSIZED_LIST_FACTOR
        for arg in SIZE_ARGUMENTS:
            if arg in definition.args:
                factor = size_of(given.get(arg), definition.args[arg].default_value)
                break
        child = get_named_type(definition.type)
        return cost + factor * walk(node.selection_set, child, seen)

    return walk(operation.selection_set, root, frozenset())


class InputTooLarge(GraphQLError):
    """A string or list argument (literal or variable) over its limit, or not valid Unicode."""


def _string_problem(value: str, max_chars: int) -> str | None:
    if len(value) > max_chars:
        return f"a string argument has {len(value)} characters, above the limit of {max_chars}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "a string argument is not valid Unicode (a lone surrogate)"
    return None


def input_size_rule(max_chars: int, max_items: int) -> type[ASTValidationRule]:
    """A validation rule (document only, so cacheable) for the literals of a document: no
    string over ``max_chars`` or holding a lone surrogate, no list over ``max_items``."""

    class InputSizeRule(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)

        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            problem = _string_problem(node.value, max_chars)
            if problem is not None:
                self.report_error(InputTooLarge(problem, node, extensions={"code": "BAD_REQUEST"}))

        def enter_list_value(self, node: ListValueNode, *_: Any) -> None:
            if len(node.values) > max_items:
                self.report_error(
                    InputTooLarge(
                        f"a list argument has {len(node.values)} items, above the limit of "
                        f"{max_items}",
                        node,
                        extensions={"code": "BAD_REQUEST"},
                    )
                )

    return InputSizeRule


def variables_problem(value: Any, max_chars: int, max_items: int) -> str | None:
    """What is wrong with the variables of a request, if anything: a string over
    ``max_chars`` or not valid Unicode, a list or object over ``max_items``, an integer
    outside 64 bits (nothing in the graph stores more)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            problem = _string_problem(item, max_chars)
            if problem is not None:
                return problem
        elif isinstance(item, bool):
            continue
        elif isinstance(item, int):
            if not -(2**63) <= item < 2**63:
                return "a number argument is outside the 64-bit range"
        elif isinstance(item, Mapping):
            if len(item) > max_items:
                return f"an object argument has {len(item)} keys, above the limit of {max_items}"
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            if len(item) > max_items:
                return f"a list argument has {len(item)} items, above the limit of {max_items}"
            stack.extend(item)
    return None


class InvalidCurrency(GraphQLError):
    """An argument or input field named `currency` that is not an ISO 4217 code."""


CURRENCY_NAMES = frozenset({"currency"})


def currency_problem_of(document: DocumentNode, variables: Mapping[str, Any]) -> str | None:
    """The first currency argument of the request that is not an ISO 4217 code: literal
    arguments and input fields named ``currency``, the variables they name, and fields named
    ``currency`` inside input objects sent as variables."""
    for value in _currency_values(document):
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            if given is None:
                continue
            problem = currency_problem(given)
        elif isinstance(value, StringValueNode):
            problem = currency_problem(value.value)
        else:
            problem = currency_problem(value_from_ast_untyped(value))
        if problem is not None:
            return problem
    stack: list[Any] = [variables]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            for key, value in item.items():
                if key in CURRENCY_NAMES and value is not None and not isinstance(value, Mapping):
                    problem = currency_problem(value)
                    if problem is not None:
                        return problem
                else:
                    stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


# The currency value nodes of the documents seen last, by the document's identity: the parser
# cache hands the same document to every request that sends the same text, and walking it
# anew took a tenth of the API's CPU on the enterprise card. The entry keeps its document,
# so an id is never reused while its entry lives.
_CURRENCY_NODES: OrderedDict[int, tuple[DocumentNode, tuple[ValueNode, ...]]] = OrderedDict()
_CURRENCY_NODES_MAX = 512
_currency_lock = threading.Lock()


def _currency_values(document: DocumentNode) -> tuple[ValueNode, ...]:
    """The value nodes of every argument or input field named ``currency`` in ``document``."""
    key = id(document)
    with _currency_lock:
        found = _CURRENCY_NODES.get(key)
        if found is not None and found[0] is document:
            _CURRENCY_NODES.move_to_end(key)
            return found[1]
    values = tuple(
        value
        for name, value in _walk_values(document)
        if name in CURRENCY_NAMES and value is not None
    )
    with _currency_lock:
        _CURRENCY_NODES[key] = (document, values)
        while len(_CURRENCY_NODES) > _CURRENCY_NODES_MAX:
            _CURRENCY_NODES.popitem(last=False)
    return values


def _walk_values(document: DocumentNode) -> Iterator[tuple[str, ValueNode | None]]:
    """Every (argument or input field name, value node) of ``document``."""
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, ArgumentNode | ObjectFieldNode):
            yield node.name.value, node.value
        if isinstance(node, Node):
            for key in node.keys:
                child = getattr(node, key, None)
                if isinstance(child, Node):
                    stack.append(child)
                elif isinstance(child, list | tuple):
                    stack.extend(c for c in child if isinstance(c, Node))


class CostCheckedValidation(ValidationCache):
    """Validation cached per document (strawberry's ValidationCache), then the checks that
    depend on this request's variables, which no cache may skip: their sizes and Unicode,
    and the cost estimate (a document that passed with ``first: 5`` must still be refused
    with ``first: 5000``)."""

    def __init__(
        self, max_cost: int, max_chars: int = 2_000, max_items: int = 1_000,
        budget: RateLimiter | None = None, budget_from: int = 0,
    ) -> None:  # fmt: skip
        super().__init__(maxsize=512)
        self.max_cost = max_cost
        self.max_chars = max_chars
        self.max_items = max_items
        self.budget = budget
        self.budget_from = budget_from

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        assert ctx.graphql_document is not None  # parsed before validation
        errors = self.cached_validate_document(
            ctx.schema._schema, ctx.graphql_document, ctx.validation_rules
        )
        if not errors and ctx.variables:
            problem = variables_problem(ctx.variables, self.max_chars, self.max_items)
            if problem is not None:
                errors = [InputTooLarge(problem, extensions={"code": "BAD_REQUEST"})]
        if not errors:
            problem = currency_problem_of(ctx.graphql_document, ctx.variables or {})
            if problem is not None:
                errors = [InvalidCurrency(problem, extensions={"code": "BAD_REQUEST"})]
        if not errors:
            errors = self._cost_errors(ctx.schema._schema, ctx.graphql_document, ctx.variables)
        ctx.pre_execution_errors = errors
        yield

    def _charge(self, cost: int) -> list[GraphQLError]:
        """Take ``cost`` from the caller's budget, or the RATE_LIMITED error (HTTP 429)."""
        context = self.execution_context.context
        user = getattr(context, "user", None)
        if self.budget is None or user is None or cost <= 0 or cost < self.budget_from:
            return []
        try:
            self.budget.take(f"cost:{user.username}", float(cost))
        except RateLimited as e:
            wait = max(1, math.ceil(e.retry_after))
            response = getattr(context, "response", None)
            if response is not None:
                response.status_code = 429
                response.headers["Retry-After"] = str(wait)
            return [GraphQLError(
                f"{user.username} has spent its budget of estimated cost "
                f"({self.budget.rate * 60:.0f} a minute); this operation costs {cost}; retry "
                f"in {wait} s", extensions={"code": "RATE_LIMITED", "retry_after": wait},
            )]  # fmt: skip
        return []

    def _cost_errors(
        self, schema: GraphQLSchema, document: DocumentNode, variables: Mapping[str, Any] | None
    ) -> list[GraphQLError]:
        total = 0
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            cost = estimate_cost(schema, document, definition, variables or {})
            total += cost
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
        return self._charge(total)


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
        input_size_rule(settings.graphql_max_string_chars, settings.graphql_max_list_items),
    ]
    if settings.environment is not Environment.DEVELOPMENT:
        document_rules += DisableIntrospection().validation_rules
    # One budget for the schema (the process): every request's extension charges it.
    budget = RateLimiter(settings.graphql_cost_per_minute,
                         max(settings.graphql_cost_burst, settings.graphql_max_cost))  # fmt: skip
    return [
        lambda: ParserCache(maxsize=512),  # one instance a request, one shared LRU
        lambda: MaxTokensLimiter(max_token_count=settings.graphql_max_tokens),
        lambda: AddValidationRules(document_rules),
        lambda: CostCheckedValidation(
            settings.graphql_max_cost,
            settings.graphql_max_string_chars,
            settings.graphql_max_list_items,
            budget,
            settings.graphql_cost_budget_from,
        ),
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

    def refund(self, key: str, cost: float = 1.0) -> None:
        """Give back tokens taken for work that turned out not to count (a good login)."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is not None:
                bucket.tokens = min(self.burst, bucket.tokens + cost)

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


class LoginThrottle:
    """Failed-login limits that hold under concurrency and do not lock the real user out.

    A login attempt first *takes* a token from each bucket that applies, atomically, before
    its password is checked, and gets it back when the password was right; so 60 guesses sent
    at once evaluate at most as many passwords as the buckets hold. The buckets:

    - per (username, client address): a guesser burns its own allowance, not the user's;
    - per client address: one address guessing across many usernames;
    - per username, all addresses together: an attacker rotating addresses. An address that
      has logged in as that user before (remembered in process) skips this one, so the real
      user still gets in from a known address while the username is under attack.
    """

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.monotonic) -> None:
        self.pair = RateLimiter(
            settings.login_per_username_per_minute, settings.login_per_username_burst, clock
        )
        self.address = RateLimiter(
            settings.login_per_address_per_minute, settings.login_per_address_burst, clock
        )
        self.username = RateLimiter(
            settings.login_global_per_username_per_minute,
            settings.login_global_per_username_burst,
            clock,
        )
        self._known: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def _buckets(self, username: str, address: str) -> list[tuple[RateLimiter, str]]:
        buckets = [(self.pair, f"{username}\x00{address}"), (self.address, address)]
        with self._lock:
            known = address in self._known.get(username, ())
        if not known:
            buckets.append((self.username, username))
        return buckets

    def begin(self, username: str, address: str) -> list[tuple[RateLimiter, str]]:
        """Reserve one attempt, or RateLimited (nothing reserved). Returns what to give back
        through ``succeeded`` when the password turns out right."""
        taken: list[tuple[RateLimiter, str]] = []
        try:
            for limiter, key in self._buckets(username, address):
                limiter.take(key)
                taken.append((limiter, key))
        except RateLimited:
            for limiter, key in taken:
                limiter.refund(key)
            raise
        return taken

    def succeeded(self, username: str, address: str, taken: list[tuple[RateLimiter, str]]) -> None:
        for limiter, key in taken:
            limiter.refund(key)
        with self._lock:
            if len(self._known) >= 100_000:
                self._known.clear()
            addresses = self._known.setdefault(username, set())
            if len(addresses) < 64:
                addresses.add(address)


# ---- request bodies ------------------------------------------------------------------------
class BodyGuard:
    """Refuses request bodies before any route reads them: over ``max_bytes`` (413, the
    declared length is checked first, then what arrives), and, for JSON, bodies that are not
    UTF-8, not JSON, or nested deeper than ``max_depth`` (400). Routes with a larger limit of
    their own (telemetry batches) are listed in ``large``, path prefix to limit, and their
    JSON is left to them. ``multipart`` does the same for multipart bodies only (the GraphQL
    multipart request spec's uploads on `/graphql`, whose other requests keep ``max_bytes``).

    A plain ASGI middleware: the body is read once and handed on to the app unchanged."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        max_depth: int,
        large: Mapping[str, int] | None = None,
        on_reject: Callable[[Scope, int, str], None] | None = None,
        multipart: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.large = dict(large or {})
        self.multipart = dict(multipart or {})
        self.on_reject = on_reject

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        limit, own_json = self.max_bytes, False
        for prefix, size in self.large.items():
            if path.startswith(prefix):
                limit, own_json = size, True
        headers = Headers(scope=scope)
        if headers.get("content-type", "").lower().startswith("multipart/form-data"):
            for prefix, size in self.multipart.items():
                if path.startswith(prefix):
                    limit = size
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, 413, f"the request body is at most {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, send, 413, f"the request body is at most {limit} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if not own_json and body and "json" in headers.get("content-type", ""):
            problem = json_problem(body, self.max_depth)
            if problem is not None:
                await self._refuse(scope, send, 400, problem)
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send, status: int, detail: str) -> None:
        scope.setdefault("state", {})["body_refused"] = True  # for the request's labels
        if self.on_reject is not None:
            self.on_reject(scope, status, detail)
        response = JSONResponse({"detail": detail}, status)
        await response(scope, _no_receive, send)


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def json_problem(body: bytes, max_depth: int) -> str | None:
    """Why ``body`` is not an acceptable JSON document, or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"the request body is not valid UTF-8 (byte {e.start})"
    # Nesting first, on the text (at C speed): strings out, brackets only, then the
    # innermost pairs peeled ``max_depth`` times; whatever is left is deeper than that.
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    if re.search(rf"[\[{{]{{{max_depth + 1}}}", brackets):  # the usual deep body
        return f"the JSON body is nested deeper than {max_depth} levels"
    for _ in range(max_depth):
        if not brackets:
            break
        brackets = _INNERMOST.sub("", brackets)
    if brackets:
        return f"the JSON body is nested deeper than {max_depth} levels (or unbalanced)"
    try:
        json.loads(text)
    except (ValueError, RecursionError) as e:
        return f"the request body is not JSON: {e}"
    return None
