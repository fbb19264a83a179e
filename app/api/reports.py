"""HTTP routes for an incident's report: JSON, a printable page and the attendance as CSV.

Coordinators and admins only (the report names people); a forum viewer's token gets a 403. The page is
rendered here with no script, every text escaped, and an inline SVG chart per need, so it prints and
works offline; the console fetches it with its token (never in a URL) and shows or saves it.
"""

import base64
import csv
import hashlib
import io
from datetime import UTC, datetime
from html import escape

from fastapi import APIRouter, Response
from fastapi.responses import HTMLResponse

from app.api.deps import CoordinatorToken, SessionDep
from app.api.params import Id
from app.callout.report import incident_report
from app.callout.schemas import IncidentReport, NeedReport

router = APIRouter(prefix="/api/v1/incidents", tags=["reports"])

CSV_COLUMNS = ("name", "skill", "eta_minutes", "checkin", "arrived_at", "done_at", "hours", "no_show")
# A spreadsheet runs a cell starting with one of these as a formula: such text is kept as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHART_W, CHART_H, PAD = 520, 170, 34


@router.get("/{incident_id}/report")
def report(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> IncidentReport:
    """What happened: timeline, time to first SMS and to fill each need, fill over time, messages and
    their segments, acceptance by distance, who attended and their hours."""
    return incident_report(session, incident_id=incident_id)


@router.get("/{incident_id}/report.html", response_class=HTMLResponse)
def report_page(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> HTMLResponse:
    """The report as a printable page (no script; a chart per need)."""
    return HTMLResponse(render_html(incident_report(session, incident_id=incident_id)))


@router.get(
    "/{incident_id}/attendance.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def attendance_csv(incident_id: Id, session: SessionDep, token: CoordinatorToken) -> Response:
    """Who was confirmed, when they arrived and finished, and their hours, as CSV."""
    body = render_csv(incident_report(session, incident_id=incident_id))
    filename = f"incident-{incident_id}-attendance.csv"
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def render_csv(data: IncidentReport) -> str:
    """The attendance rows, one per confirmed person."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in data.attendance:
        writer.writerow([_cell(getattr(row, column)) for column in CSV_COLUMNS])
    return out.getvalue()


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%d %b %Y %H:%M:%S UTC")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not yet"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def chart(need: NeedReport, *, last_minute: int) -> str:
    """An SVG step chart of confirmed people by minute, with the count needed as a dashed line."""
    span = max(1, last_minute, need.fill_over_time[-1].minute)
    top = max(1, need.count, max(p.accepted for p in need.fill_over_time))

    def x(minute: int) -> float:
        return round(PAD + (CHART_W - 2 * PAD) * minute / span, 1)

    def y(count: int) -> float:
        return round(CHART_H - PAD - (CHART_H - 2 * PAD) * count / top, 1)

    points: list[str] = []
    previous = 0
    for point in need.fill_over_time:
        points += [f"{x(point.minute)},{y(previous)}", f"{x(point.minute)},{y(point.accepted)}"]
        previous = point.accepted
    points.append(f"{x(span)},{y(previous)}")
    label = escape(f"{need.skill}: {need.accepted} of {need.count} confirmed")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_W}" height="{CHART_H}" role="img" '
        f'aria-label="{label}">'
        f'<line x1="{PAD}" y1="{CHART_H - PAD}" x2="{CHART_W - PAD}" y2="{CHART_H - PAD}" stroke="#333"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{CHART_H - PAD}" stroke="#333"/>'
        f'<line x1="{PAD}" y1="{y(need.count)}" x2="{CHART_W - PAD}" y2="{y(need.count)}" '
        'stroke="#b00" stroke-dasharray="4 3"/>'
        f'<polyline fill="none" stroke="#0b5" stroke-width="2" points="{" ".join(points)}"/>'
        f'<text x="{PAD - 4}" y="{CHART_H - PAD}" text-anchor="end" font-size="11">0</text>'
        f'<text x="{PAD - 4}" y="{y(top) + 4}" text-anchor="end" font-size="11">{top}</text>'
        f'<text x="{CHART_W - PAD}" y="{y(need.count) - 4}" text-anchor="end" font-size="11" fill="#b00">'
        f"needed {need.count}</text>"
        f'<text x="{CHART_W - PAD}" y="{CHART_H - PAD + 16}" text-anchor="end" font-size="11">'
        f"{span} min</text>"
        f'<text x="{PAD}" y="{CHART_H - PAD + 16}" font-size="11">minutes since declared</text>'
        "</svg>"
    )


def _table(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    cells = ["".join(f"<td>{escape('' if v is None else str(v))}</td>" for v in row) for row in rows]
    body = "".join(f"<tr>{c}</tr>" for c in cells)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #111; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #999; padding: 2px 8px; text-align: left; }
section.need { break-inside: avoid; }
@media print { body { margin: 0; } }
"""
# The console opens the report from a blob URL, which keeps the console's policy: it allows this style.
STYLE_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"


def render_html(data: IncidentReport) -> str:
    """The printable report page."""
    incident = data.incident
    end = incident.closed_at or datetime.now(UTC)
    last_minute = int((end - incident.declared_at).total_seconds() // 60)
    title = f"Incident {incident.id}: {incident.title}" + (" (exercise)" if incident.exercise else "")
    title += "" if incident.emergency else " (not an emergency)"
    needs = "".join(
        f"<section class='need'><h3>{escape(n.skill)}: {n.accepted} of {n.count} confirmed</h3>"
        f"<p>Filled {escape(_when(n.filled_at) or 'not filled')}; time to fill "
        f"{escape(_duration(n.time_to_fill_s))}.</p>{chart(n, last_minute=last_minute)}</section>"
        for n in data.needs
    )
    timeline = _table(
        ["When", "What", "Detail"], [[_when(e.at), e.event, e.detail or ""] for e in data.timeline]
    )
    messages = _table(
        ["Direction", "Kind", "Messages", "Segments"],
        [[m.direction, m.kind, m.count, m.segments] for m in data.messages.by_kind],
    )
    bands = _table(
        ["Distance (km)", "Reached", "Said yes", "Rate"],
        [
            [b.band, b.called, b.accepted, "" if b.rate is None else f"{b.rate:.0%}"]
            for b in data.acceptance_by_distance
        ],
    )
    attendance = _table(
        ["Name", "Skill", "ETA (min)", "Check-in", "Arrived", "Done", "Hours", "No-show"],
        [
            [
                a.name,
                a.skill,
                a.eta_minutes,
                a.checkin,
                _when(a.arrived_at),
                _when(a.done_at),
                a.hours,
                "yes" if a.no_show else "",
            ]
            for a in data.attendance
        ],
    )
    closed = (
        f"Closed {escape(_when(incident.closed_at))}"
        + (f": {escape(incident.close_reason)}" if incident.close_reason else "")
        if incident.closed_at
        else "Still open"
    )
    summary = (
        f"{escape(incident.kind)}, {escape(incident.place)}. Declared {escape(_when(incident.declared_at))}. "
        f"{closed}."
    )
    sent = (
        f"Messages sent: {data.messages.outbound} ({data.messages.outbound_segments} segments); "
        f"replies: {data.messages.inbound}."
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{escape(title)}</h1>
<p>{summary}</p>
<p>Time to first SMS: {escape(_duration(data.time_to_first_sms_s))}.
{sent}
Hours on duty: {data.hours.total} ({data.hours.people} people).</p>
<h2>Timeline</h2>{timeline}
<h2>Needs</h2>{needs}
<h2>Messages</h2>{messages}
<h2>Acceptance by distance</h2>{bands}
<h2>Attendance</h2>{attendance}
</body></html>
"""
