"""Site dashboards: each site's people see their own indicators (with SPC icons), their areas in the
funnel, survey results against the programme, their schemes and typology group, and the evaluation's
findings for them; programme and evaluation staff (and admins) see every site. A site user asking for
another site's page gets 404 (no hint that it exists). A one-page PDF per site for workshops.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from joinedup.web.security import COOKIE

router = APIRouter(prefix="/sites")


def _user(request: Request) -> dict | None:
    ctx = request.app.state.ctx
    s = ctx.sessions.read(request.cookies.get(COOKIE))
    return ctx.store.user(s.user) if s else None


def _data(request: Request):
    from joinedup.web.site_data import SiteData

    ctx = request.app.state.ctx
    if ctx.settings.results is None:
        return None
    if getattr(ctx, "_site_data", None) is None:
        ctx._site_data = SiteData(ctx.settings.results)
    return ctx._site_data


def _allowed(user: dict, site: str) -> bool:
    return user["role"] in ("admin", "programme") or user.get("site") == site


@router.get("", response_class=HTMLResponse)
def index(request: Request):
    user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    if user["role"] == "site":
        return RedirectResponse(f"/sites/{user['site']}", status_code=303)
    data = _data(request)
    return request.app.state.ctx.page(request, "sites/index.html", title="Site dashboards",
                                      sites=data.sites if data else [], role=user["role"])


def _render(request: Request, site: str, printable: bool = False):
    user = _user(request)
    if user is None:
        return RedirectResponse("/admin/login", status_code=303)
    data = _data(request)
    if data is None or not _allowed(user, site) or site not in data.sites:
        return request.app.state.ctx.page(request, "message.html", 404, title="Not found",
                                          paragraphs=["There is no dashboard here for you."])
    from joinedup.web.feedback_routes import site_feedback
    from joinedup.web.site_panels import readable_survey, scheme_rows

    tables = data.dashboard(site)
    return request.app.state.ctx.page(request, "sites/site.html", title=f"{site}: dashboard", site=site,
                                      tables=tables, printable=printable, site_user=user["role"] == "site",
                                      panels=data.panels(site), feedback=site_feedback(request, site, user["username"]),
                                      me=user["username"], role=user["role"], readable=readable_survey,
                                      scheme_rows=scheme_rows)


@router.get("/{site}", response_class=HTMLResponse)
def site_page(request: Request, site: str):
    return _render(request, site)


@router.get("/{site}/summary.pdf")
def site_pdf(request: Request, site: str):
    """The site's one-page summary, printed by Chromium from the printable dashboard."""
    from joinedup.report.pdf import html_string_to_pdf

    page = _render(request, site, printable=True)
    if page.status_code != 200:
        return page
    static = Path(__file__).parent / "static"  # set_content has no base URL: the page's stylesheets come inline
    css = "\n".join((static / name).read_text(encoding="utf-8") for name in ("site.css", "dashboard.css"))
    with tempfile.TemporaryDirectory() as tmp:
        pdf = html_string_to_pdf(page.body.decode(), Path(tmp) / "summary.pdf", css, one_page=True).read_bytes()
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{site} summary.pdf"'})
