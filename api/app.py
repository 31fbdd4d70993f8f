"""The FastAPI application factory and its lifespan.

The lifespan opens the pool, builds the services, starts the in-process
run workers (with the cleanup schedule) or, without them, an hourly housekeeping task (expired token revocations,
drained throttle buckets, unconfirmed registrations, audit events past
AUDIT_RETENTION_DAYS); it stops them in reverse order. When the database is down at
start, the service still starts (every route then answers 503 and /health
says so) and recovers when the database comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI
from langchain_core.language_models import BaseChatModel
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from agents.usage import observe_process
from api.audit import RequestAudit
from api.confirmation import ConfirmationSender, SmtpConfirmationSender
from api.document_intake import DocumentIntake
from api.errors import COMMON_RESPONSES, install_error_handlers
from api.instrumentation import forget_pool, observe_model_call, sample_pool_forever
from api.lg.service import AgentProtocol
from api.middleware import BodySizeLimit, RequestContext, SecurityHeaders
from api.personal_context import document_search
from api.probes import ProbeTargets
from api.protocol.assistants import CASE_THREAD_METADATA
from api.routes import (
    account,
    admin,
    api_keys,
    auth,
    cases,
    chat,
    conversations,
    documents,
    health,
    notifications,
    profile,
    runs,
    stats,
)
from api.routes.lg import AGENT_PROTOCOL_PREFIX
from api.routes.lg import routers as agent_protocol_routers
from api.routes.web import DOCS_CSP, STATIC_PREFIX, install_web
from db import __version__, metrics
from db.analytics import AnalyticsService
from db.api_keys import ApiKeyService
from db.audit import AuditLog
from db.cases import CaseService
from db.clock import Clock
from db.conversations import ConversationService
from db.documents import DocumentService
from db.errors import Unavailable
from db.lifecycle.retention import RETENTION_PURGES
from db.lifecycle.scheduler import CleanupSchedule
from db.migrate import load_migrations
from db.notifications import NotificationService
from db.pool import CONNECTION_ERRORS, create_pool, resolve_dsn
from db.profiles import ProfileService
from db.registrations import RegistrationService
from db.runs.service import RunService
from db.scope import scoped
from db.service_role import SERVICE_ROLE, service_dsn
from db.settings import ConfigError, Settings, load_settings
from db.throttle import AuthThrottle, Budgets
from db.tokens import TokenService
from db.users import UserService
from db.webhooks import WebhookService

log = logging.getLogger("api.app")

# Starts the run workers on the app's pool (dsn for their LISTEN connection); returns their stop.
WorkerStarter = Callable[[asyncpg.Pool, Settings, str], Awaitable[Callable[[], Awaitable[None]]]]
# In-flight steps get this long to finish at shutdown before their leases are left to expire.
WORKER_DRAIN_SECONDS = 20.0
# Room for the multipart envelope around an upload of DOCUMENT_MAX_BYTES (boundaries, headers, form fields).
UPLOAD_ENVELOPE_BYTES = 64 * 1024
HOUSEKEEPING_INTERVAL_SECONDS = 3600.0


class InProcessWorkers:
    """The stop of the in-process workers (call it), and whether they still run (for /readyz)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor

    def running(self) -> bool:
        return bool(self.executor.running)

    async def __call__(self) -> None:
        await self.executor.stop(drain_seconds=WORKER_DRAIN_SECONDS)


async def start_in_process_workers(pool: asyncpg.Pool, settings: Settings,
                                   dsn: str) -> Callable[[], Awaitable[None]]:
    from api.graph_runner import start_workers  # imported late: tests of the API alone need no graph

    workers = await start_workers(pool, settings, dsn=dsn)
    log.info("in-process workers started (up to %d runs at once)", workers.concurrency)
    return InProcessWorkers(workers)


def document_model(settings: Settings) -> BaseChatModel | None:
    """The model that reads facts from documents: the OpenAI-compatible one when configured, else rules."""
    if settings.llm_provider != "openai":
        return None
    from api.orchestrator import model_from_settings  # imported late: tests of the API alone need no graph

    return model_from_settings(settings)


async def open_pool(settings: Settings, dsn: str, max_size: int, setting: str = "DATABASE_URL") -> asyncpg.Pool:
    try:
        return await create_pool(settings, dsn, max_size=max_size, setting=setting)
    except Unavailable as exc:
        log.warning("%s; starting anyway, routes answer 503 until it is back", exc)
        return await create_pool(settings, dsn, min_size=0, max_size=max_size, setting=setting)


async def open_service_pool(settings: Settings, owner_dsn: str) -> asyncpg.Pool | None:
    """The request handlers' pool, as the restricted service role (db/service_role.py); None, with
    a warning, when there is none to use: then row-level security protects nothing."""
    try:
        dsn = await service_dsn(settings, owner_dsn)
    except CONNECTION_ERRORS + (asyncpg.PostgresError,) as exc:
        log.warning("cannot prepare the service role's login: %s", type(exc).__name__)
        dsn = None
    if dsn is None:
        log.warning("row-level security is not enforced: requests use the owner's connection "
                    "(set APP_DATABASE_URL to a login of role %s; README, Row-level security)", SERVICE_ROLE)
        return None
    return await open_pool(settings, dsn, settings.db_pool_max_size, setting="APP_DATABASE_URL")


async def close_pools(*pools: asyncpg.Pool | None) -> None:
    for pool in pools:
        if pool is not None:
            await pool.close()


async def purge_expired_credentials(app: FastAPI) -> None:
    """Housekeeping: revocations of expired tokens, drained throttle buckets, unconfirmed registrations
    and audit events past AUDIT_RETENTION_DAYS go. Every statement is idempotent, so processes need not
    agree on who runs it. Best effort: a database that is down now is not a reason to stop."""
    try:
        for _name, purge in RETENTION_PURGES:  # the cleanup schedule's own purges, each in its transaction
            async with app.state.pool.acquire() as con, con.transaction():
                await purge(con, app.state.settings)
    except CONNECTION_ERRORS + (Unavailable, asyncpg.UndefinedTableError) as exc:
        log.warning("skipped credential housekeeping: %s", type(exc).__name__)


async def housekeeping_loop(app: FastAPI, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await purge_expired_credentials(app)


def create_app(settings: Settings | None = None, *, dsn: str | None = None,
               workers: WorkerStarter | None = start_in_process_workers,
               chat_wait_seconds: float | None = None, clock: Clock | None = None,
               confirmation_sender: ConfirmationSender | None = None) -> FastAPI:
    """The app. `workers=None` serves without in-process workers (another process runs them,
    with the timer and outbox loops). `clock`: the one clock of cases, timers and deliveries
    (tests start it at a fixed time and advance it). With a `confirmation_sender`, registration
    confirms by email (api/confirmation.py); by default it does over SMTP when the settings say so."""
    settings = settings or load_settings()
    clock = clock or Clock()
    settings.jwt_secret()  # fail at start, naming the key, rather than at the first login
    settings.document_key()  # likewise for the key of uploaded files
    metrics.configure(settings.prometheus_multiproc_dir)
    observe_process(observe_model_call)  # the document reader's model calls count too
    settings.check_registration_confirmation()
    if confirmation_sender is None and settings.confirms_registration_by_email:
        confirmation_sender = SmtpConfirmationSender(settings)
    if confirmation_sender is not None and settings.public_url is None:
        raise ConfigError("PUBLIC_URL", "is required when registration confirms by email (the links point there)")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resolved: str = dsn if dsn is not None else await asyncio.to_thread(resolve_dsn, settings)
        # Runs in flight hold no connection: the workers share the API's pool, whatever their number.
        pool = await open_pool(settings, resolved, settings.db_pool_max_size)
        try:
            service_pool = await open_service_pool(settings, resolved)
        except BaseException:
            await pool.close()
            raise
        app.state.pool = pool
        app.state.service_pool = service_pool
        # The owner's pool: who is signing in (by email, token or key hash) is not known yet.
        app.state.users = UserService(pool)
        app.state.tokens = TokenService(pool, refresh_days=settings.refresh_token_expire_days)
        app.state.throttle = AuthThrottle(pool, Budgets(
            login_account=settings.login_account_attempts, login_address=settings.login_address_attempts,
            login_global=settings.login_global_attempts, register_address=settings.register_address_attempts,
            register_global=settings.register_global_attempts))
        app.state.registrations = RegistrationService(pool, confirm_hours=settings.registration_confirm_hours)
        # Security events of every user, written before or regardless of who acts (admins read them all).
        app.state.audit_log = AuditLog(pool)
        app.state.audit = RequestAudit(app.state.audit_log)
        app.state.analytics = AnalyticsService(pool)
        app.state.api_key_auth = ApiKeyService(pool)
        # The rest acts for the authenticated caller: the service role, app.user_id set per transaction.
        user_pool = scoped(service_pool or pool)
        app.state.user_pool = user_pool
        app.state.conversations = ConversationService(user_pool, ttl_hours=settings.conversation_ttl_hours)
        app.state.runs = RunService(user_pool)
        app.state.profiles = ProfileService(user_pool)
        app.state.documents = DocumentService(user_pool, settings.document_key(),
                                              search=document_search(user_pool, settings))
        app.state.intake = DocumentIntake(app.state.documents, document_model(settings))
        app.state.api_keys = ApiKeyService(user_pool)
        app.state.agent_protocol = AgentProtocol(user_pool, app.state.conversations, app.state.runs,
                                                 checkpoint_pool=pool)
        app.state.cases = CaseService(user_pool, clock, thread_metadata=CASE_THREAD_METADATA)
        app.state.notifications = NotificationService(user_pool)
        app.state.webhooks = WebhookService(user_pool, settings.document_key())
        await purge_expired_credentials(app)
        loops = None
        stop_workers = None
        try:
            stop_workers = await workers(pool, settings, resolved) if workers is not None else None
            if workers is not None:  # the timer and outbox loops run beside the workers
                from api.case_loops import start_case_loops

                loops = app.state.case_loops = start_case_loops(pool, settings, clock)
        except BaseException:
            await close_pools(pool, service_pool)
            raise
        app.state.workers = stop_workers
        app.state.probe_targets.workers_running = getattr(stop_workers, "running", None)
        sampler = asyncio.create_task(sample_pool_forever(pool), name="pool-gauges")
        # Expired data is deleted by the processes that run workers (one of them at a time).
        app.state.cleanup = CleanupSchedule(pool, settings)
        if workers is not None:
            app.state.cleanup.start()
        # The schedule's passes run the same purges; a process without it keeps them short itself.
        housekeeping = None if app.state.cleanup.scheduled else asyncio.create_task(
            housekeeping_loop(app, HOUSEKEEPING_INTERVAL_SECONDS))
        try:
            yield
        finally:
            if housekeeping is not None:
                housekeeping.cancel()
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            try:
                await app.state.cleanup.stop()
                if loops is not None:
                    await loops.stop()
                if stop_workers is not None:
                    await stop_workers()
            finally:
                await close_pools(pool, service_pool)
                forget_pool()

    app = FastAPI(
        title="Insurance Navigator",
        version=__version__,
        description="Health-insurance questions answered by a durable multi-agent workflow. "
                    "Authorize with your email and password (OAuth2 password flow) to try the routes.",
        lifespan=lifespan,
        responses=COMMON_RESPONSES,
        # /docs and /redoc are served from files in the package (api/routes/web.py), not a CDN.
        docs_url=None,
        redoc_url=None,
        middleware=[*cors_middleware(settings),
                    Middleware(RequestContext, trusted_proxies=settings.trusted_proxy_networks),
                    Middleware(SecurityHeaders, html_csp=DOCS_CSP, revalidate_prefix=STATIC_PREFIX + "/"),
                    Middleware(BodySizeLimit, max_bytes=settings.max_request_bytes,
                               route_limits={"POST /documents": settings.document_max_bytes + UPLOAD_ENVELOPE_BYTES})],
    )
    app.state.settings = settings
    app.state.probe_targets = ProbeTargets(pool=lambda: getattr(app.state, "pool", None),
                                           migrations=load_migrations(),
                                           service_pool=lambda: getattr(app.state, "service_pool", None))
    app.state.clock = clock
    app.state.confirmation_sender = confirmation_sender
    if chat_wait_seconds is not None:
        app.state.chat_wait_seconds = chat_wait_seconds
    install_error_handlers(app)
    for module in (auth, api_keys, conversations, runs, chat, documents, profile, account, cases, notifications,
                   health, stats, admin):
        app.include_router(module.router)
    for router in agent_protocol_routers:
        app.include_router(router, prefix=AGENT_PROTOCOL_PREFIX)
    install_web(app)
    return app


# Headers a browser client may read: the request id, and where a run's stream can be rejoined
# (the LangGraph SDKs read Content-Location and Location from run responses).
CORS_EXPOSED_HEADERS = ["X-Request-ID", "Content-Location", "Location", "Retry-After", "X-Pagination-Next"]


def cors_middleware(settings: Settings) -> list[Middleware]:
    """Outermost, so preflights are answered before authentication and every answer
    (413 and 503 included) carries the headers. Credentials only for listed origins."""
    origins = settings.cors_origin_list
    if not origins:
        return []
    any_origin = origins == ["*"]
    return [Middleware(CORSMiddleware, allow_origins=origins, allow_credentials=not any_origin,
                       allow_methods=["*"], allow_headers=["*"], expose_headers=CORS_EXPOSED_HEADERS, max_age=600)]


def openapi_document(app: FastAPI) -> dict[str, Any]:
    return app.openapi()
