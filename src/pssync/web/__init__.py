"""The dashboard: server-rendered pages (Jinja2) over the API's services, plotly.js from the
installed plotly package (no CDN), and a signed-cookie login that takes an API key."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from pssync.web import actions, auth, pages

STATIC = Path(__file__).with_name("static")


def _plotly_js() -> Path:
    """plotly.min.js as shipped inside the installed plotly package (no CDN)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise RuntimeError("the plotly package is not installed")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


PLOTLY_JS = _plotly_js()


def mount(app: FastAPI) -> None:
    """Add the dashboard's routes, static files and login redirect to `app`."""

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> Response:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        return RedirectResponse("/ui/forecast", status_code=303)

    @app.exception_handler(auth.LoginRequiredError)
    async def _login(_: Request, exc: auth.LoginRequiredError) -> Response:
        return auth.login_redirect(exc)

    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(actions.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
