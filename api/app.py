"""The FastAPI application factory."""

from __future__ import annotations

import gc
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio.to_thread
import structlog
from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from neo4j import Driver
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import AuditLog, new_event
from api.availability import RETRY_AFTER_S, DatabaseBreaker
from api.deps import CurrentUserDep, DriverDep, SettingsDep, _bearer, user_of_token
from api.errors import http_status_of, is_domain_error
from api.graphql.context import Context
from api.graphql.schema import build_schema
from api.graphql.websocket import AuthenticatedGraphQLRouter
from api.limits import BodyGuard, LoginThrottle, RateLimited, RateLimiter
from api.read_cache import WritesEmptyReadCache
from api.read_timeout import ReadTimeoutDriver
from api.routes import contracts, documents, reports, telemetry
from api.security import (
    AuthError,
    CurrentUser,
    TokenChecker,
    authenticate_versioned,
    issue_token,
)
from api.sensors import SensorsRuntime
from chainlens.logs import get_logger
from chainlens.settings import PROJECT_ROOT, Environment, Settings, get_settings
from decisions.monitoring import RuleHitsCollector
from documents.ocr import MAX_BYTES as MAX_DOCUMENT_BYTES
from finance.batching import GroupCommitter
from graph.cache import ReadCache
from graph.driver import create_driver

log = get_logger(__name__)

# The explorer's build output (`make web`, or `cd api/web && npm ci && npm run build`).
WEB_DIST = PROJECT_ROOT / "api" / "web" / "dist"
# The label values of the HTTP metrics: a fixed set, whatever method a client invents.
HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Security headers of every answer (docs/api.md, "Security"). The explorer needs its own
# scripts and styles, WebGL, and a worker made from a blob (the ForceAtlas2 layout); API
# answers need nothing at all.
WEB_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class TokenRequest(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1_024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Metrics:
    """Prometheus metrics of one app (a registry per app keeps tests independent)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "chainlens_http_requests_total",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "chainlens_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.audit_failing = Gauge(
            "chainlens_audit_failing",
            "1 while writing the audit trail fails",
            registry=self.registry,
        )
        self.audit_pending = Gauge(
            "chainlens_audit_pending_events", "audit events not yet stored", registry=self.registry
        )
        self.audit_dead_letters = Gauge(
            "chainlens_audit_dead_letters",
            "audit events the graph refused, kept in the dead-letter file",
            registry=self.registry,
        )
        # How often each rule of a rule set fires (package decisions).
        self.registry.register(RuleHitsCollector())


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: encodable whatever a client sent."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def route_label(
    scope: Scope, templates: frozenset[str] | set[str], web: bool, status_code: int
) -> str:
    """The route template of a request (`/graphql`, `/api/v1/telemetry`; the app's routes
    have no path parameters, so a template is a path), `/` for the explorer's files, or
    `unmatched` (no such route or file): never the raw path, so the label set stays fixed.
    Also says which answers are the explorer's (its CSP)."""
    path = scope["path"]
    if path in templates:
        return str(path)
    if web and status_code != 404 and not scope.get("state", {}).get("body_refused"):
        return "/"
    return "unmatched"


class RequestObserver:
    """Gives each HTTP request a correlation id (the client's `x-request-id` or a new one),
    binds it to the logs, returns it as `x-request-id`, and logs and measures the request.

    A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` (what `@app.middleware` makes)
    runs every request through a task group and a memory stream, a few percent of the API's
    CPU on small queries."""

    def __init__(
        self, app: ASGIApp, metrics: Metrics, templates: set[str], web: bool, dev: bool = False
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates  # the app's route paths, filled once its routes are added
        self.web = web  # the explorer is mounted at "/"
        self.dev = dev

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        # `request.state` reads this dict, so handlers and error handlers see the id.
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        status_code = 500  # what the client gets when nothing was sent
        route = "unmatched"

        async def send_with_id(message: Message) -> None:
            nonlocal status_code, route
            if message["type"] == "http.response.start":
                status_code = message["status"]
                route = route_label(scope, self.templates, self.web, status_code)
                headers = MutableHeaders(scope=message)
                headers.append("x-request-id", correlation_id)
                secure(scope, route, headers, self.dev)
            await send(message)

        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")
            elapsed = time.perf_counter() - started
            method = scope["method"] if scope["method"] in HTTP_METHODS else "other"
            log.info(
                "http.request",
                correlation_id=correlation_id,
                method=method,
                path=scope["path"],
                status=status_code,
                ms=round(elapsed * 1000, 2),
            )
            self.metrics.requests.labels(method, route, str(status_code)[:3]).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)


def secure(scope: Scope, route: str, headers: MutableHeaders, dev: bool) -> None:
    """Add the security headers to an answer: nosniff, no framing, no referrer everywhere;
    the explorer's CSP on its pages; on API answers a CSP that allows nothing and no-store,
    so that no cache keeps a token or a record. GraphiQL (development only) keeps its own."""
    raw = headers.raw
    for name, value in SECURITY_HEADERS:
        if name.decode() not in headers:
            raw.append((name, value))
    if route == "/":  # the explorer's static files (or the page saying how to build them)
        headers.setdefault("content-security-policy", WEB_CSP)
        if scope["path"] in ("/", "/index.html"):
            headers["cache-control"] = "no-store"
        return
    if dev and route == "/graphql" and headers.get("content-type", "").startswith("text/html"):
        return  # GraphiQL loads its scripts from a CDN
    if dev and route in ("/docs", "/docs/oauth2-redirect"):
        return  # Swagger UI, development only, likewise
    headers.setdefault("content-security-policy", API_CSP)
    headers["cache-control"] = "no-store"


def create_app(settings: Settings | None = None, driver: Driver | None = None) -> FastAPI:
    """Build the app. A given driver is borrowed (the caller closes it); otherwise the app
    creates one at start-up and closes it at shutdown."""
    settings = settings or get_settings()
    dev = settings.environment is Environment.DEVELOPMENT

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = driver is None
        app.state.driver = (
            driver if driver is not None
            else create_driver(settings, settings.api_neo4j_retry_s,
                               settings.api_neo4j_acquire_timeout_s)
        )
        app.state.breaker = DatabaseBreaker(app.state.driver, settings.neo4j_database)
        # Ledger writes arriving together share a transaction (finance/batching.py).
        app.state.ledger = (
            GroupCommitter(
                app.state.driver, settings.neo4j_database,
                max_batch=settings.ledger_batch_max,
                wait_s=settings.ledger_batch_wait_ms / 1000,
                max_queue=settings.ledger_batch_queue,
                gate=app.state.breaker.check,
            )
            if settings.ledger_batching else None
        )  # fmt: skip
        app.state.audit = AuditLog(
            app.state.driver,
            settings.neo4j_database,
            settings.audit_flush_s,
            settings.audit_batch,
            dead_letter=settings.state_dir / "audit-dead-letter.jsonl",
        )
        app.state.audit.start()
        app.state.tokens = TokenChecker(
            app.state.driver, settings.neo4j_database, settings.token_version_cache_s
        )
        app.state.sensors = SensorsRuntime(settings, app.state.driver)
        # What is alive at start-up (imports, the schema, models) lives as long as the process.
        # Freezing it keeps it out of full collections, which the many objects of large
        # results trigger: at 300k tracked objects each one is a pause of about 100 ms.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.api_worker_threads
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # so that what is left is freed at exit (nanobind checks for leaks)
            await app.state.sensors.hub.close()
            await run_in_threadpool(app.state.sensors.close)
            app.state.audit.stop()
            if app.state.ledger is not None:
                await run_in_threadpool(app.state.ledger.close)
            if owned:
                app.state.driver.close()

    app = FastAPI(
        title="ChainLens",
        description="Industrial-chain intelligence for supply-chain finance.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if dev else None,
        redoc_url=None,
        # The OpenAPI document stays outside production: the fuzzers read it in tests.
        openapi_url=None if settings.environment is Environment.PRODUCTION else "/openapi.json",
    )
    app.state.settings = settings
    # Enterprise cards and other hot reads; every write this process serves empties it.
    read_cache = ReadCache(settings.read_cache_ttl_s, settings.read_cache_entries)
    app.state.read_cache = read_cache
    if driver is not None:
        app.state.driver = driver
    metrics = Metrics()
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    login_throttle = LoginThrottle(settings)
    app.state.rate_limiter = limiter
    app.state.login_throttle = login_throttle
    # argon2 takes ~100 ms of CPU and 64 MiB: bound how many run at once.
    login_slots = anyio.Semaphore(max(1, settings.login_max_concurrent))

    def audit(request: Request, **fields: Any) -> None:
        trail: AuditLog | None = getattr(request.app.state, "audit", None)
        if trail is not None:
            trail.record(new_event(correlation_id=request.state.correlation_id, **fields))

    def take(
        request: Request, bucket: RateLimiter, user: CurrentUser, kind: str, consume: bool = True
    ) -> None:
        """One token of ``user``'s bucket, or a 429 with Retry-After (and an audit event)."""
        try:
            if consume:
                bucket.take(user.username)
            else:
                bucket.check(user.username)
        except RateLimited as e:
            audit(request, username=user.username, roles=[r.value for r in user.roles],
                  kind=kind, decision="rate_limited", detail=str(e))  # fmt: skip
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                str(e),
                headers={"Retry-After": str(max(1, int(e.retry_after + 0.999)))},
            ) from e

    def body_refused(scope: Scope, status_code: int, detail: str) -> None:
        trail: AuditLog | None = getattr(app.state, "audit", None)
        if trail is not None:
            trail.record(
                new_event(
                    username="anonymous", roles=[], kind="http", decision="rejected",
                    operation=f"{scope['method'][:10]} {scope['path'][:200]}",
                    detail=f"{status_code}: {detail}",
                    correlation_id=scope.get("state", {}).get("correlation_id"),
                )
            )  # fmt: skip

    # Outermost last: the observer sees (and labels, and secures) the guard's refusals too.
    app.add_middleware(
        BodyGuard,
        max_bytes=settings.api_max_body_bytes,
        max_depth=settings.api_max_json_depth,
        large={
            telemetry.router.prefix + "/telemetry": settings.sensors_http_max_bytes,
            documents.router.prefix + "/documents": MAX_DOCUMENT_BYTES,
        },
        # GraphQL's `uploadDocument` takes a document as large as the REST door's, and
        # refuses one over MAX_DOCUMENT_BYTES itself (413 with its code); the margin is the
        # multipart envelope (`operations`, `map`, the part headers)
        multipart={"/graphql": MAX_DOCUMENT_BYTES + 64 * 1024},
        on_reject=body_refused,
    )
    web = (WEB_DIST / "index.html").is_file()
    templates: set[str] = set()
    app.add_middleware(WritesEmptyReadCache, cache=read_cache)
    app.add_middleware(RequestObserver, metrics=metrics, templates=templates, web=web, dev=dev)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        # FastAPI's own handler echoes the input, which may hold a lone surrogate that UTF-8
        # cannot encode (a 500): the same answer, written as ASCII JSON.
        return AsciiJSONResponse({"detail": jsonable_encoder(exc.errors())}, 422)

    @app.exception_handler(AuthError)
    async def auth_error(_: Request, exc: AuthError) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc)},
            status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(Exception)
    async def domain_or_internal(request: Request, exc: Exception) -> JSONResponse:
        if is_domain_error(exc):
            return JSONResponse({"detail": str(exc)}, http_status_of(exc))
        cid = getattr(request.state, "correlation_id", "-")
        log.error("http.internal_error", error=repr(exc), path=request.url.path)
        return JSONResponse({"detail": f"internal error (correlation id {cid})"}, 500)

    @app.post("/auth/token", response_model=TokenResponse, tags=["auth"])
    async def token(
        body: TokenRequest, request: Request, settings: SettingsDep, driver: DriverDep
    ) -> TokenResponse:
        """Exchange a username and password for a bearer token (JWT)."""
        # Each attempt reserves its place in the login buckets before the password is checked
        # (atomic under concurrency) and gets it back when the password was right: guessing is
        # slowed down, a user who logs in often is not (LoginThrottle).
        username = body.username
        address = request.client.host if request.client is not None else "-"
        try:
            taken = login_throttle.begin(username, address)
        except RateLimited as e:
            audit(request, username=username, roles=[], kind="login", decision="rate_limited",
                  detail="too many failed logins")  # fmt: skip
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"too many failed logins; retry in {max(1, int(e.retry_after + 0.999))} s",
                headers={"Retry-After": str(max(1, int(e.retry_after + 0.999)))},
            ) from e
        try:
            async with login_slots:
                user, version = await run_in_threadpool(
                    authenticate_versioned, driver, settings.neo4j_database, username,
                    body.password,
                )  # fmt: skip
        except AuthError:
            audit(request, username=username, roles=[], kind="login", decision="failed")
            raise
        login_throttle.succeeded(username, address, taken)
        tokens: TokenChecker | None = getattr(request.app.state, "tokens", None)
        if tokens is not None:
            tokens.remember(user.username, version, user.roles)
        audit(request, username=user.username, roles=[r.value for r in user.roles],
              kind="login", decision="allowed")  # fmt: skip
        log.info("auth.token_issued", username=user.username)
        return TokenResponse(
            access_token=issue_token(settings, user, version),
            expires_in=settings.jwt_ttl_minutes * 60,
        )

    @app.get("/health", tags=["ops"])
    async def health(request: Request, settings: SettingsDep, driver: DriverDep) -> JSONResponse:
        """200 when Neo4j answers a query and the audit trail is being written; else 503,
        with the audit trail's state (pending events, failures, dead letters, last error)."""
        trail: AuditLog | None = getattr(request.app.state, "audit", None)
        audit_health = trail.health().as_dict() if trail is not None else {"status": "off"}
        try:
            await run_in_threadpool(
                driver.execute_query, "RETURN 1", database_=settings.neo4j_database
            )
        except Exception as e:
            log.warning("health.neo4j_unreachable", error=repr(e))
            return JSONResponse(
                {"status": "unavailable", "neo4j": "unreachable", "audit": audit_health}, 503
            )
        if audit_health["status"] == "failing":
            return JSONResponse({"status": "degraded", "neo4j": "ok", "audit": audit_health}, 503)
        return JSONResponse({"status": "ok", "neo4j": "ok"})

    @app.get("/metrics", tags=["ops"])
    async def prometheus_metrics(request: Request) -> Response:
        trail: AuditLog | None = getattr(request.app.state, "audit", None)
        if trail is not None:
            h = trail.health()
            metrics.audit_failing.set(0 if h.ok else 1)
            metrics.audit_pending.set(h.pending)
            metrics.audit_dead_letters.set(h.dead_letters)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/me", tags=["auth"])
    async def me(request: Request, user: CurrentUserDep) -> dict[str, Any]:
        take(request, limiter, user, "http")
        return {"username": user.username, "roles": sorted(user.roles)}

    async def graphql_context(connection: HTTPConnection) -> Context:
        settings, driver = connection.app.state.settings, connection.app.state.driver
        if connection.scope["type"] == "websocket":
            # Authenticated by its connection_init payload (AuthenticatedGraphQLRouter).
            return Context(settings, driver, CurrentUser("anonymous", frozenset()), "-",
                           read_cache=connection.app.state.read_cache)
        request = cast(Request, connection)
        breaker: DatabaseBreaker | None = getattr(connection.app.state, "breaker", None)
        if breaker is not None and breaker.is_open:  # answer now, do not wait on the database
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "the database cannot be reached; retry shortly",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        credentials = await _bearer(request)
        user: CurrentUser | None = None
        if credentials is not None:
            try:
                user = await user_of_token(request, credentials.credentials)
            except AuthError as e:
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED, str(e), headers={"WWW-Authenticate": "Bearer"}
                ) from e
        if user is None:
            # Only the GraphiQL page itself (a browser GET, development only) loads without a
            # token; every operation needs one.
            if not (
                dev and request.method == "GET" and "text/html" in request.headers.get("accept", "")
            ):
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED,
                    "authentication required",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            user = CurrentUser("anonymous", frozenset())
        else:
            take(request, limiter, user, "graphql")
        return Context(
            settings=settings,
            driver=cast(Driver, ReadTimeoutDriver(driver, settings.neo4j_tx_timeout_s)),
            user=user,
            correlation_id=getattr(request.state, "correlation_id", "-"),
            breaker=breaker,
            read_cache=connection.app.state.read_cache,
            ledger=getattr(connection.app.state, "ledger", None),
        )

    app.include_router(
        AuthenticatedGraphQLRouter(
            build_schema(settings),
            context_getter=graphql_context,
            graphql_ide="graphiql" if dev else None,
            allow_queries_via_get=False,
            # uploadSignedContract takes its PDF as a multipart request; authentication is a
            # bearer header, never a cookie, so a cross-site form cannot send one.
            multipart_uploads_enabled=True,
            settings=settings,
            limiter=limiter,
            app_state=app.state,
        ),
        prefix="/graphql",
    )
    app.include_router(telemetry.router)
    app.include_router(documents.router)
    app.include_router(contracts.router)
    app.include_router(reports.router)

    if web:
        app.mount("/", StaticFiles(directory=WEB_DIST, html=True), name="web")
    else:

        @app.get("/", include_in_schema=False)
        async def root() -> HTMLResponse:
            return HTMLResponse(
                "<!doctype html><title>ChainLens</title><h1>ChainLens</h1>"
                "<p>The web explorer is not built. Run <code>make web</code> (or "
                "<code>cd api/web &amp;&amp; npm ci &amp;&amp; npm run build</code>) and "
                "restart the API.</p><p>GraphQL: <a href='/graphql'>/graphql</a>, "
                "health: <a href='/health'>/health</a>.</p>",
                status.HTTP_503_SERVICE_UNAVAILABLE,
            )

    routes = [
        *app.routes, *telemetry.router.routes, *reports.router.routes, *documents.router.routes,
        *contracts.router.routes,
    ]
    templates |= {"/graphql"} | {str(p) for r in routes if (p := getattr(r, "path", None))}
    return app
