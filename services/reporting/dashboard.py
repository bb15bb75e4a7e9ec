"""The built-in dashboard at /dashboard: one HTML page with inline SVG charts, rendered on the server.

No script and no external resource (CDN, font, image): it works offline, behind a strict
Content-Security-Policy, and a headless browser sees the numbers without running any code.
"""
from html import escape

from shared.domain import STATUSES

from .domain import PIPELINE_STAGES

STATUS_COLOURS = {"submitted": "#9aa5b1", "published": "#3b82f6", "rejected": "#ef4444", "shortlisted": "#a855f7",
                  "pilot": "#f59e0b", "in_implementation": "#14b8a6", "completed": "#22c55e"}
STAGE_COLOURS = {"shortlisted": "#a855f7", "approved": "#f59e0b", "rejected": "#ef4444",
                 "in_implementation": "#14b8a6", "completed": "#22c55e"}
STATE_COLOURS = {"scheduled": "#3b82f6", "reached": "#22c55e", "overdue": "#ef4444"}
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1f2933}
header{background:#0f3d5e;color:#fff;padding:16px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;opacity:.8;font-size:13px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(380px,1fr));gap:16px;padding:20px 28px}
section{background:#fff;border-radius:8px;padding:14px 18px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
section h2{font-size:15px;margin:0 0 10px;color:#0f3d5e}
.kpis{grid-column:1/-1;display:grid;grid-template-columns:repeat(auto-fill,minmax(125px,1fr));gap:12px;
background:none;box-shadow:none;padding:0}
.kpi{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.kpi b{display:block;font-size:26px;color:#0f3d5e}.kpi span{font-size:12px;color:#52606d}
table{border-collapse:collapse;width:100%;font-size:13px}td{padding:4px 6px;border-bottom:1px solid #e4e7eb}
.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}
svg text{font-size:12px;fill:#323f4b}
"""


def _number(value):
    return "–" if value is None else f"{value:,}".replace(",", "\u202f")


def bar_chart(chart_id, items, colours=None, width=360):
    """Horizontal bars: items are (label, value); each bar carries its value as text and data-value."""
    row, label_width = 24, 130
    top = max((value for _, value in items), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(items):
        y = i * row
        length = (width - label_width - 50) * value / top
        colour = (colours or {}).get(label, "#3b82f6")
        bars.append(
            f'<text x="0" y="{y + 16}">{escape(label.replace("_", " "))}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="16" rx="3" fill="{colour}"/>'
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}" data-label="{escape(label)}"'
            f' data-value="{value}">{_number(value)}</text>')
    height = max(row * len(items), row)
    return (f'<svg id="{chart_id}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            + "".join(bars) + "</svg>")


def column_chart(chart_id, points, width=360, height=150):
    """Columns per bucket (a time series), with the first and last day as axis labels."""
    top = max((p["events"] for p in points), default=0) or 1
    step = width / max(len(points), 1)
    plot = height - 20
    columns = [
        f'<rect x="{i * step + 1:.1f}" y="{plot - plot * p["events"] / top:.1f}" width="{max(step - 2, 1):.1f}"'
        f' height="{plot * p["events"] / top:.1f}" fill="#3b82f6" data-value="{p["events"]}">'
        f'<title>{p["start"]:%d.%m.}: {p["events"]}</title></rect>'
        for i, p in enumerate(points)]
    axis = ""
    if points:
        axis = (f'<text x="0" y="{height - 4}">{points[0]["start"]:%d.%m.%Y}</text>'
                f'<text x="{width}" y="{height - 4}" text-anchor="end">{points[-1]["start"]:%d.%m.%Y}</text>')
    return (f'<svg id="{chart_id}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<line x1="0" y1="{plot}" x2="{width}" y2="{plot}" stroke="#cbd2d9"/>' + "".join(columns) + axis
            + "</svg>")


def _kpi(kpi_id, value, label):
    return f'<div class="kpi"><b id="{kpi_id}">{_number(value)}</b><span>{escape(label)}</span></div>'


def _milestone_rows(milestones):
    rows = []
    for m in milestones[:12]:
        colour = STATE_COLOURS[m["state"]]
        rows.append(f'<tr><td>{m["due_date"]:%d.%m.%Y}</td><td>{escape(m["title"])}</td>'
                    f'<td><span class="dot" style="background:{colour}"></span>{m["state"]}</td></tr>')
    return "".join(rows) or '<tr><td colspan="3">no milestones yet</td></tr>'


def render(data):
    """The page for queries.dashboard_data's result."""
    summary, series = data["summary"], data["submissions"]["series"][0]["points"]
    ideas, pilots, stats = summary["ideas"], summary["pilots"], summary["milestones"]
    notifications = summary["notifications"]
    place = summary["municipality"] or "all municipalities"
    rate = stats["on_time_rate"]
    kpis = "".join([
        _kpi("kpi-ideas", ideas["total"], "ideas"),
        _kpi("kpi-participants", summary["participants"], "participants"),
        _kpi("kpi-votes", summary["votes"]["cast"], "votes cast"),
        _kpi("kpi-support", summary["votes"]["support"], "current support"),
        _kpi("kpi-pilots", pilots["approved"] + pilots["in_implementation"] + pilots["completed"], "pilot projects"),
        _kpi("kpi-overdue", stats["overdue"], "milestones overdue"),
        f'<div class="kpi"><b id="kpi-on-time">{"–" if rate is None else f"{rate:.0%}"}</b>'
        '<span>milestones on time</span></div>',
        _kpi("kpi-events", summary["events_applied"], "events applied"),
    ])
    delivery = [(f"{channel} {outcome}", n) for outcome in ("sent", "failed")
                for channel, n in sorted(notifications[outcome].items())]
    delivery_colours = {label: "#ef4444" if label.endswith("failed") else "#22c55e" for label, _ in delivery}
    by_field = sorted(ideas["by_field"].items(), key=lambda item: (-item[1], item[0]))
    last = summary["last_applied_at"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SmartCity dashboard – {escape(place)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="refresh" content="60">
<style>{STYLE}</style></head>
<body><header><h1>SmartCity participation – {escape(place)}</h1>
<p>Read models of every event; last event applied {escape(last.isoformat(timespec="seconds")) if last else "never"}.
Data also at /api/v1/summary, open data at /api/v1/exports, metrics at /metrics.</p></header>
<main>
<section class="kpis">{kpis}</section>
<section><h2>Ideas by status</h2>{bar_chart("ideas-by-status", [(s, ideas["by_status"].get(s, 0)) for s in STATUSES],
                                              STATUS_COLOURS)}</section>
<section><h2>Ideas by field of action</h2>{bar_chart("ideas-by-field", by_field)}</section>
<section><h2>Ideas submitted, last 30 days</h2>{column_chart("submissions", series)}</section>
<section><h2>Pilot pipeline</h2>{bar_chart("pilot-pipeline", [(s, pilots[s]) for s in PIPELINE_STAGES],
                                           STAGE_COLOURS)}</section>
<section><h2>Milestones</h2>{bar_chart("milestone-states", [(s, stats[s]) for s in STATE_COLOURS], STATE_COLOURS)}
<table>{_milestone_rows(data["milestones"])}</table></section>
<section><h2>Notification delivery</h2>{bar_chart("notifications", delivery or [("none yet", 0)], delivery_colours)}</section>
</main></body></html>"""
