"""The FastAPI application, built from settings by `create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app import problems
from app.audit.endpoints import router as audit_router
from app.auth.endpoints import router as keys_router
from app.batch.endpoints import router as batch_router
from app.context import Context
from app.curation.endpoints import router as curation_router
from app.decode.endpoints import router as decode_router
from app.editions.endpoints import router as editions_router
from app.research.endpoints import router as research_router
from app.settings import Settings
from app.units.endpoints import router as units_router
from app.web.endpoints import router as web_router

DESCRIPTION = """
Giải mã phiên hiệu, ký hiệu, mật danh và hòm thư của đơn vị quân đội trong hồ sơ
liệt sĩ, theo ngày hy sinh, dựa trên bộ mã có phiên bản và nguồn dẫn.

Decodes wartime Vietnamese military unit designations (echelon symbols, cover
numbers and names, field mailboxes) found in martyr records, for the date of
death, against a versioned and sourced codebook. Every answer names the
codebook edition that produced it. Errors are RFC 9457 problem+json.
"""


def create_app(settings: Settings | None = None, *, context: Context | None = None) -> FastAPI:
    """Build the app; on startup the database is migrated and loaded if configured."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or Context.from_settings(settings)
        ctx.ensure_ready()
        app.state.context = ctx
        yield
        if context is None:
            ctx.close()

    app = FastAPI(title="phienhieu", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    problems.install(app)
    app.include_router(decode_router)
    app.include_router(batch_router)
    app.include_router(research_router)
    app.include_router(units_router)
    app.include_router(editions_router)
    app.include_router(curation_router)
    app.include_router(keys_router)
    app.include_router(audit_router)
    app.include_router(web_router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """Liveness: answers 200 when the service is up."""
        return JSONResponse({"status": "ok"})

    return app
