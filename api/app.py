"""The FastAPI application factory."""

from __future__ import annotations

import contextlib
import gc
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import anyio.to_thread
import structlog
from fastapi import FastAPI, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from neo4j import Driver
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit import AuditLog, new_event
from api.deps import CurrentUserDep, DriverDep, SettingsDep, _bearer, get_optional_user
from api.errors import http_status_of, is_domain_error
from api.graphql.context import Context
from api.graphql.schema import build_schema
from api.graphql.websocket import AuthenticatedGraphQLRouter
from api.limits import RateLimited, RateLimiter
from api.routes import telemetry
from api.security import AuthError, CurrentUser, authenticate, issue_token
from api.sensors import SensorsRuntime
from chainlens.logs import get_logger
from chainlens.settings import PROJECT_ROOT, Environment, Settings, get_settings
from graph.driver import create_driver

log = get_logger(__name__)

# The explorer's build output (`make web`, or `cd api/web && npm ci && npm run build`).
WEB_DIST = PROJECT_ROOT / "api" / "web" / "dist"
# Login attempts per username: slow enough to stop guessing, fast enough for typos.
LOGIN_PER_MINUTE = 10
LOGIN_BURST = 10


class TokenRequest(BaseModel):
    username: str
    password: str


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


class RequestObserver:
    """Gives each HTTP request a correlation id (the client's `x-request-id` or a new one),
    binds it to the logs, returns it as `x-request-id`, and logs and measures the request.

    A plain ASGI middleware: Starlette's `BaseHTTPMiddleware` (what `@app.middleware` makes)
    runs every request through a task group and a memory stream, a few percent of the API's
    CPU on small queries."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = Headers(scope=scope).get("x-request-id") or uuid.uuid4().hex
        # `request.state` reads this dict, so handlers and error handlers see the id.
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        status_code = 500  # what the client gets when nothing was sent

        async def send_with_id(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                MutableHeaders(scope=message).append("x-request-id", correlation_id)
            await send(message)

        structlog.contextvars.bind_contextvars(correlation_id=correlation_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            structlog.contextvars.unbind_contextvars("correlation_id")
            elapsed = time.perf_counter() - started
            method = scope["method"]
            route = getattr(scope.get("route"), "path", "unmatched")
            log.info(
                "http.request",
                correlation_id=correlation_id,
                method=method,
                path=scope["path"],
                status=status_code,
                ms=round(elapsed * 1000, 2),
            )
            self.metrics.requests.labels(method, route, str(status_code)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)


def create_app(settings: Settings | None = None, driver: Driver | None = None) -> FastAPI:
    """Build the app. A given driver is borrowed (the caller closes it); otherwise the app
    creates one at start-up and closes it at shutdown."""
    settings = settings or get_settings()
    dev = settings.environment is Environment.DEVELOPMENT

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = driver is None
        app.state.driver = driver if driver is not None else create_driver(settings)
        app.state.audit = AuditLog(
            app.state.driver, settings.neo4j_database, settings.audit_flush_s, settings.audit_batch
        )
        app.state.audit.start()
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
            if owned:
                app.state.driver.close()

    app = FastAPI(
        title="ChainLens",
        description="Industrial-chain intelligence for supply-chain finance.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs" if dev else None,
        redoc_url=None,
    )
    app.state.settings = settings
    if driver is not None:
        app.state.driver = driver
    metrics = Metrics()
    limiter = RateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    login_limiter = RateLimiter(LOGIN_PER_MINUTE, LOGIN_BURST)
    app.state.rate_limiter = limiter

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

    app.add_middleware(RequestObserver, metrics=metrics)

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
        # Only failed attempts spend the username's login tokens: guessing is slowed down,
        # a user who logs in often is not.
        attempt = CurrentUser(body.username[:200], frozenset())
        take(request, login_limiter, attempt, "login", consume=False)
        try:
            user = await run_in_threadpool(
                authenticate, driver, settings.neo4j_database, body.username, body.password
            )
        except AuthError:
            audit(request, username=attempt.username, roles=[], kind="login", decision="failed")
            with contextlib.suppress(RateLimited):
                login_limiter.take(attempt.username)
            raise
        audit(request, username=user.username, roles=[r.value for r in user.roles],
              kind="login", decision="allowed")  # fmt: skip
        log.info("auth.token_issued", username=user.username)
        return TokenResponse(
            access_token=issue_token(settings, user), expires_in=settings.jwt_ttl_minutes * 60
        )

    @app.get("/health", tags=["ops"])
    async def health(settings: SettingsDep, driver: DriverDep) -> JSONResponse:
        """200 when Neo4j answers a query, 503 otherwise."""
        try:
            await run_in_threadpool(
                driver.execute_query, "RETURN 1", database_=settings.neo4j_database
            )
        except Exception as e:
            log.warning("health.neo4j_unreachable", error=repr(e))
            return JSONResponse({"status": "unavailable", "neo4j": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "neo4j": "ok"})

    @app.get("/metrics", tags=["ops"])
    async def prometheus_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/me", tags=["auth"])
    async def me(request: Request, user: CurrentUserDep) -> dict[str, Any]:
        take(request, limiter, user, "http")
        return {"username": user.username, "roles": sorted(user.roles)}

    async def graphql_context(connection: HTTPConnection) -> Context:
        settings, driver = connection.app.state.settings, connection.app.state.driver
        if connection.scope["type"] == "websocket":
            # Authenticated by its connection_init payload (AuthenticatedGraphQLRouter).
            return Context(settings, driver, CurrentUser("anonymous", frozenset()), "-")
        request = cast(Request, connection)
        user = get_optional_user(settings, await _bearer(request))
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
            driver=driver,
            user=user,
            correlation_id=getattr(request.state, "correlation_id", "-"),
        )

    app.include_router(
        AuthenticatedGraphQLRouter(
            build_schema(settings),
            context_getter=graphql_context,
            graphql_ide="graphiql" if dev else None,
            allow_queries_via_get=False,
            settings=settings,
            limiter=limiter,
        ),
        prefix="/graphql",
    )
    app.include_router(telemetry.router)

    if (WEB_DIST / "index.html").is_file():
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

    return app
