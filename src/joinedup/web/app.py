"""The FastAPI app: respondent pages (``/s/{token}``), unsubscribe, and admin pages behind login.

Example:
    >>> from joinedup.web.config import WebSettings
    >>> app = create_app(WebSettings(store_url="sqlite:///survey.db"))           # doctest: +SKIP
    >>> import uvicorn; uvicorn.run(app, host="127.0.0.1", port=8000)            # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from joinedup.web.config import WebSettings
from joinedup.web.headers import SecurityHeaders
from joinedup.web.limits import BodyLimit
from joinedup.web.security import Sessions

HERE = Path(__file__).parent


class Context:
    """What every route needs: settings, the store, sessions, templates and the loaded instruments."""

    def __init__(self, settings: WebSettings):
        from joinedup.survey.accounts import LoginThrottle, SessionRegistry
        from joinedup.survey.store import SurveyStore

        self.settings = settings
        self.store = SurveyStore(settings.store_url)
        self.store.create()
        self.sessions = Sessions(settings.secret, registry=SessionRegistry(self.store, settings.idle_minutes))
        self.throttle = LoginThrottle(self.store, settings.login_policy)
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self._forms: dict[str, object] = {}

    def form(self, instrument_id: str):
        """The instrument of a wave, loaded once (the Pioneer instrument when none is configured)."""
        from joinedup.survey.instrument import load_form
        from joinedup.survey.pioneer_instrument import pioneer_instrument_path

        if instrument_id not in self._forms:
            path = self.settings.instruments.get(instrument_id)
            if path is None:
                if instrument_id != "pioneer_ki_survey":
                    raise LookupError(f"no instrument {instrument_id!r} is configured (configured: "
                                      f"{', '.join(['pioneer_ki_survey', *self.settings.instruments])})")
                path = pioneer_instrument_path()
            self._forms[instrument_id] = load_form(path)
        return self._forms[instrument_id]

    def load_instruments(self) -> list[str]:
        """Load every configured instrument (and the Pioneer one) now, before the first request, so
        the first respondents' saves do not wait behind the workbook's validation and its imports
        (about a second of CPU, several seconds on the loaded shared machine, during which every
        save queues). One that fails to load is left for its pages to report; its message is returned.

        Example:
            >>> app.state.ctx.load_instruments()                                  # doctest: +SKIP
            []
        """
        problems = []
        for instrument_id in ("pioneer_ki_survey", *self.settings.instruments):
            try:
                self.form(instrument_id)
            except Exception as exc:  # noqa: BLE001 - the wave's pages answer 503 for it, as before
                problems.append(f"instrument {instrument_id!r}: {exc}")
        return problems

    def page(self, request: Request, template: str, status_code: int = 200, **values) -> HTMLResponse:
        session = self.sessions.read(request.cookies.get("joinedup_session"))
        values.setdefault("user", session.user if session else None)
        values.setdefault("csrf", session.csrf if session else "")
        return self.templates.TemplateResponse(request, template, values, status_code=status_code)


def create_app(settings: WebSettings) -> FastAPI:
    """Build the app for ``settings`` (the store's tables are created if missing)."""
    from joinedup.web import admin, admin_waves, respond, signin, sites

    # the OpenAPI description is served (no interactive docs) so the API can be fuzzed against it
    app = FastAPI(title="joinedup survey", docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.state.ctx = Context(settings)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.mount("/survey-static", StaticFiles(directory=str(_instrument_static())), name="survey-static")
    app.include_router(respond.router)
    app.include_router(signin.router)
    app.include_router(admin.router)
    app.include_router(admin_waves.router)
    app.include_router(sites.router)
    from joinedup.web import feedback_routes
    feedback_routes.attach(app)  # sites' comments and scheme corrections (tables made here, once)
    from joinedup.web import qual_routes
    qual_routes.attach(app)  # the qualitative workbench (/coding)
    from joinedup.web import register_routes
    register_routes.attach(app)  # the initiative register: sites propose, the team reviews (/register)

    app.add_middleware(SecurityHeaders, https=settings.base_url.startswith("https://"))
    # outermost, so a body over the limit is refused before any route or parser reads it
    app.add_middleware(BodyLimit, anonymous=settings.body_limit_anonymous, signed_in=settings.body_limit_signed_in,
                       signed=lambda cookie: app.state.ctx.sessions.verify(cookie) is not None)
    return app


def _instrument_static() -> Path:
    """The folder of the instrument renderer's CSS and JS (survey.css, survey.js)."""
    import joinedup.survey.instrument as inst

    return Path(inst.__file__).parent / "static"
