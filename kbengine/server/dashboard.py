"""The lead's dashboard at /agent/dashboard: `kb report --format html` over the server's store,
with the content sections (kbengine/report/dashboard.py). Leads and admins only."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from kbengine.report import PERIODS, Filters
from kbengine.report.dashboard import dashboard_html
from kbengine.server.deps import KB, Lead, WalksService
from kbengine.server.errors import Unprocessable
from kbengine.services.report import content_report, in_the_period, read_records, team_report
from kbengine.walk.store import SessionError, parse_moment

router = APIRouter()


def moment(text: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A date, date and time, or age (7d) from a query parameter; 422 when it is none of those."""
    if not text:
        return None
    try:
        return parse_moment(text, end_of_day=end_of_day)
    except SessionError:
        raise Unprocessable(f"{name} must be a date (2024-05-01) or an age (7d), not '{text}'") from None


@router.get("/agent/dashboard", response_class=HTMLResponse, tags=["records"])
def dashboard(kb: KB, walks: WalksService, who: Lead, since: str | None = None, until: str | None = None,
              by: Annotated[str, Query(description=", ".join(PERIODS))] = "week") -> HTMLResponse:
    """The team dashboard: recurring problems first, then the figures and the content report."""
    if by not in PERIODS:
        raise Unprocessable(f"by must be one of: {', '.join(PERIODS)}", allowed=list(PERIODS))
    start, end = moment(since, "since"), moment(until, "until", end_of_day=True)
    records = read_records(walks.store, Filters(start, end), kb.config, kb)
    report = team_report(records, start, end, by)
    count = len(in_the_period(records, start, end))
    heading = f"Session report: {count} session{'s' * (count != 1)}" + (f" since {since}" if since else "")
    page = dashboard_html(report, content_report(kb, records, start, end), heading)
    # the page names session ids behind recurring problems: never kept by a shared cache
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
