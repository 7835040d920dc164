"""The dashboard as a FastAPI app, mounted inside Airflow's API server by the Steward plugin.

Authentication is Airflow's own: every route depends on
``requires_access_view(AccessView.WEBSITE)`` from Airflow's FastAPI security
module, which reads the user from an ``Authorization: Bearer`` token or, inside
the Airflow UI, from the ``_token`` cookie the UI's login set (httponly, path
``/``, same origin, so the browser sends it to the plugin's iframe too). No
token: 401; a bad one: 403; a user without access to the UI: 403.

Routes (relative to the mount point, ``/steward``):
``/``                the page
``/data-docs/...``   Great Expectations Data Docs, when they have been built
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from steward.dashboard import page

log = logging.getLogger(__name__)

URL_PREFIX = "/steward"
# The page has no script at all; inline CSS and inline SVG only. Framed by Airflow's UI.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
SIGN_IN_PAGE = (
    "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Steward</title></head>"
    "<body style='font-family:system-ui,sans-serif;padding:24px'><h1>Steward</h1>"
    "<p>{message}</p><p><a href='../' target='_top'>Open Airflow and sign in</a>, then "
    "choose <b>Steward</b> in its menu.</p></body></html>"
)


async def require_ui_access(request: Request) -> None:
    """Airflow's own check: a valid token (header or ``_token`` cookie) of a UI user.

    The same as declaring ``Depends(requires_access_view(AccessView.WEBSITE))``, with
    its sub-dependencies resolved here so that Airflow's API security module (which
    pulls in its models, seconds of imports) loads on the first request in the API
    server, not in every process that loads plugins (scheduler, DAG processor, tasks).
    """
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView
    from airflow.api_fastapi.core_api.security import (
        bearer_scheme,
        get_user,
        requires_access_view,
    )

    credentials = await bearer_scheme(request)
    user = await get_user(request, None, credentials)
    requires_access_view(AccessView.WEBSITE)(request, user)


def safe_file(root: Path, relative: str) -> Path | None:
    """The file ``relative`` under ``root``, or None if it is not a file inside ``root``.

    Resolves symbolic links and ``..`` first, so nothing outside ``root`` can be
    reached, whatever the request path says.
    """
    try:
        base = root.resolve(strict=True)
        candidate = (base / relative.lstrip("/")).resolve(strict=True)
    except (OSError, ValueError, RuntimeError):
        return None
    if not candidate.is_relative_to(base) or not candidate.is_file():
        return None
    return candidate


def create_app(url: str | None = None, data_docs_root: Path | None = None) -> FastAPI:
    """The dashboard app; ``url`` and ``data_docs_root`` default to the configured ones."""
    app = FastAPI(
        title="Steward dashboard",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(require_ui_access)],
    )

    @app.exception_handler(StarletteHTTPException)
    async def refused(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (401, 403) and "text/html" in request.headers.get("accept", ""):
            message = (
                "You are not signed in to Airflow."
                if exc.status_code == 401
                else "Your Airflow account may not open this page."
            )
            return HTMLResponse(
                SIGN_IN_PAGE.format(message=message),
                status_code=exc.status_code,
                headers={"Cache-Control": "no-store"},
            )
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.get("/", response_class=HTMLResponse)
    def dashboard() -> HTMLResponse:
        docs_root = data_docs_root or page.data_docs_dir()
        href = f"{page.DATA_DOCS_ROUTE}/index.html" if page.data_docs_available(docs_root) else None
        rendered = page.build(url, data_docs_href=href)
        timing = (
            f"read;dur={rendered.read_seconds * 1000:.1f}, "
            f"render;dur={rendered.render_seconds * 1000:.1f}"
        )
        return HTMLResponse(
            rendered.html,
            headers={
                "Content-Security-Policy": PAGE_CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "same-origin",
                "Cache-Control": "no-store",
                "Server-Timing": timing,
            },
        )

    @app.get(f"/{page.DATA_DOCS_ROUTE}/{{relative:path}}")
    def data_docs(relative: str) -> FileResponse:
        file = safe_file(data_docs_root or page.data_docs_dir(), relative or "index.html")
        if file is None:
            raise HTTPException(status_code=404, detail="Not found")
        return FileResponse(
            file,
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "frame-ancestors 'self'",
            },
        )

    return app
