"""The dashboard as a FastAPI app, mounted inside Airflow's API server by the Steward plugin.

Authentication is Airflow's own: every route depends on
``requires_access_view(AccessView.WEBSITE)`` from Airflow's FastAPI security
module, which reads the user from an ``Authorization: Bearer`` token or, inside
the Airflow UI, from the ``_token`` cookie the UI's login set (httponly, path
``/``, same origin, so the browser sends it to the plugin's iframe too). No
token: 401; a bad one: 403; a user without access to the UI: 403.

Routes (relative to the mount point, ``/steward``):
``/``                      the page
``/data-docs/...``         Great Expectations Data Docs, when they have been built
``/requests/new``          GET: the form for a new data-subject request; POST: submit it
``/requests/{id}``         a registered request's status (no identifiers)
``/api/requests``          POST (JSON): submit a request; 201 with its id and DAG run
``/api/requests/{id}``     GET (JSON): its status

Submitting needs the right to trigger ``steward_dsar`` runs (403 otherwise); the
form also needs its CSRF token (double-submit cookie) and a same-site Origin, the
JSON route ``Content-Type: application/json`` (which another site cannot send
without a CORS preflight). The request's identifiers go to Steward's register,
never into a DAG run's conf or a log line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from steward.dashboard import page, requests_form
from steward.dsar import intake

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
    request.state.airflow_user = user


def require_trigger_access(request: Request) -> str:
    """The signed-in user's name, if they may trigger ``steward_dsar`` runs; 403 if not."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import (
        DagAccessEntity,
        DagDetails,
    )

    from steward.airflow.dag_defaults import DSAR_DAG_ID

    user = request.state.airflow_user
    allowed = get_auth_manager().is_authorized_dag(
        method="POST",
        access_entity=DagAccessEntity.RUN,
        details=DagDetails(id=DSAR_DAG_ID),
        user=user,
    )
    if not allowed:
        raise HTTPException(
            status_code=403, detail="Your Airflow account may not submit data-subject requests."
        )
    return user.get_name()


def _form_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": requests_form.FORM_CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": "no-store",
    }


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

    _add_request_routes(app, url)
    return app


def _add_request_routes(app: FastAPI, url: str | None) -> None:
    """The form and the JSON API that submit data-subject requests (see the module doc)."""

    def status_of(request_id: int) -> dict:
        from steward import warehouse
        from steward.dsar import register

        try:
            return register.status_summary(warehouse.engine(url), request_id)
        except KeyError as exc:
            raise HTTPException(status_code=404, detail=f"no request {request_id}") from exc

    def form_page(
        request: Request, values: dict, problems: list[str], status_code: int
    ) -> HTMLResponse:
        token = request.cookies.get(requests_form.CSRF_COOKIE) or requests_form.new_csrf_token()
        response = HTMLResponse(
            requests_form.render_form(values, problems, csrf_token=token),
            status_code=status_code,
            headers=_form_headers(),
        )
        response.set_cookie(
            requests_form.CSRF_COOKIE,
            token,
            path=URL_PREFIX,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    @app.get("/requests/new", response_class=HTMLResponse)
    def new_request_form(request: Request) -> HTMLResponse:
        require_trigger_access(request)
        return form_page(request, {}, [], 200)

    @app.post("/requests/new")
    async def submit_request_form(request: Request) -> Response:
        user_name = require_trigger_access(request)
        form = await request.form()
        values = {name: str(form.get(name) or "") for name in requests_form.FIELDS}
        cookie_token = request.cookies.get(requests_form.CSRF_COOKIE)
        if not requests_form.csrf_ok(
            cookie_token, str(form.get(requests_form.CSRF_FIELD) or "")
        ) or not requests_form.same_origin(request.headers, request.url.scheme):
            return HTMLResponse(
                requests_form.render_refused(
                    "The form had expired or did not come from this site. Open it again "
                    "and submit it from there; nothing was registered."
                ),
                status_code=403,
                headers=_form_headers(),
            )
        submitted = requests_form.form_input(values)
        if submitted.problems:
            return form_page(request, values, submitted.problems, 422)
        try:
            outcome = await run_in_threadpool(
                requests_form.submit, submitted.fields, user_name=user_name, via="ui"
            )
        except intake.IntakeError as exc:
            return form_page(request, values, exc.problems, 422)
        target = f"{outcome.request_id}"
        if outcome.dag_run_id:
            target += f"?run={outcome.dag_run_id}"
        elif not outcome.created:
            target += "?existing=1"
        else:
            target += "?started=0"
        # Post/Redirect/Get: a reload does not submit again. Relative: follows base_url.
        return RedirectResponse(target, status_code=303)

    @app.get("/requests/{request_id}", response_class=HTMLResponse)
    def request_status_page(
        request_id: int, run: str | None = None, existing: int = 0, started: int = 1
    ) -> HTMLResponse:
        summary = status_of(request_id)
        note = None
        if run:
            note = f"Registered and started as run {run} of steward_dsar."
        elif existing:
            note = "This ticket was already registered: nothing new was started."
        elif not started:
            note = (
                "Registered, but Airflow started no run (steward_dsar is not loaded yet?). "
                f"Trigger steward_dsar with request_id {request_id}, or run "
                f"`steward dsar run {request_id}`."
            )
        return HTMLResponse(requests_form.render_status(summary, note), headers=_form_headers())

    @app.post("/api/requests", status_code=201)
    async def submit_request_json(request: Request) -> JSONResponse:
        user_name = require_trigger_access(request)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise HTTPException(status_code=415, detail="send the request as application/json")
        try:
            fields = await request.json()
        except ValueError as exc:
            raise HTTPException(status_code=400, detail="the body is not valid JSON") from exc
        if not isinstance(fields, dict):
            raise HTTPException(status_code=400, detail="the body must be a JSON object")
        unknown = sorted(set(fields) - set(requests_form.FIELDS))
        if unknown:
            return JSONResponse(
                {"problems": [f"{name}: not a field of a request" for name in unknown]},
                status_code=422,
            )
        try:
            outcome = await run_in_threadpool(
                requests_form.submit, fields, user_name=user_name, via="rest_api"
            )
        except intake.IntakeError as exc:
            return JSONResponse({"problems": exc.problems}, status_code=422)
        return JSONResponse(outcome.as_dict(), status_code=201 if outcome.created else 200)

    @app.get("/api/requests/{request_id}")
    def request_status_json(request_id: int) -> JSONResponse:
        return JSONResponse(status_of(request_id), headers={"Cache-Control": "no-store"})
