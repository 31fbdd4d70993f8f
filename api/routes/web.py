"""The web client at `/` and the API docs at `/docs` and `/redoc`, all from files in the
package (api/web/): no CDN, no request to any other host, no Node at install or run time.

Every page carries a Content-Security-Policy without inline scripts. The client's
own pages need no inline style either; Swagger UI and Redoc set inline styles
(React style attributes, styled-components), so the docs pages allow those, and
Redoc's search worker starts from a blob: URL.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
STATIC_PREFIX = "/web"

_COMMON_CSP = ("default-src 'none'; script-src 'self'; img-src 'self' data:; font-src 'self' data:; "
               "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
               "frame-ancestors 'none'")
APP_CSP = f"{_COMMON_CSP}; style-src 'self'"
DOCS_CSP = f"{_COMMON_CSP}; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:"

router = APIRouter(include_in_schema=False)


def page(name: str, csp: str) -> FileResponse:
    # no-cache: the browser revalidates (a 304 when unchanged), so an upgrade is seen at once.
    return FileResponse(WEB_DIR / name, media_type="text/html; charset=utf-8",
                        headers={"Content-Security-Policy": csp, "Cache-Control": "no-cache"})


@router.get("/")
async def web_client() -> FileResponse:
    return page("index.html", APP_CSP)


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return page("docs/swagger.html", DOCS_CSP)


@router.get("/redoc")
async def redoc() -> FileResponse:
    return page("docs/redoc.html", DOCS_CSP)


def install_web(app: FastAPI) -> None:
    """The pages, and the static files under /web (scripts, styles, vendored docs assets)."""
    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=WEB_DIR), name="web")
