"""Reporting's public pages: the council dashboard, an idea's page, the pilot projects, the milestones.

Rendered on the server in the shared layout (shared/pages.py), German and English, with the
names of municipalities and fields of action from the ideas service (shared/places.py). No
script and no external resource; the one chart is inline SVG with a text alternative.
"""
from html import escape
from pathlib import Path

from shared.domain import STATUSES
from shared.pages import Pages, format_date

from .texts import MESSAGES

PAGES = Pages(Path(__file__).resolve().parent / "templates", MESSAGES)
PILOT_STAGES = ("approved", "in_implementation", "completed")
# the dashboard's strategy-process sections (queries.dashboard_data), as _process.html.j2 names them
PROCESS_SECTIONS = ("surveys", "strategies", "sub_concepts", "working_groups", "competitions", "meetings", "comments")


def column_chart(points, label, width=360, height=150):
    """Columns per day (a time series), with the first and last day as axis labels; `label` says it in words."""
    top = max((p["events"] for p in points), default=0) or 1
    step = width / max(len(points), 1)
    plot = height - 20
    columns = [
        f'<rect x="{i * step + 1:.1f}" y="{plot - plot * p["events"] / top:.1f}" width="{max(step - 2, 1):.1f}"'
        f' height="{plot * p["events"] / top:.1f}" fill="#005ea5" data-value="{p["events"]}">'
        f'<title>{p["start"]:%d.%m.}: {p["events"]}</title></rect>'
        for i, p in enumerate(points)]
    axis = ""
    if points:
        axis = (f'<text x="0" y="{height - 4}">{points[0]["start"]:%d.%m.%Y}</text>'
                f'<text x="{width}" y="{height - 4}" text-anchor="end">{points[-1]["start"]:%d.%m.%Y}</text>')
    return (f'<svg id="submissions-chart" width="100%" height="{height}" viewBox="0 0 {width} {height}" role="img"'
            f' aria-label="{escape(label)}"><line x1="0" y1="{plot}" x2="{width}" y2="{plot}" stroke="#6b7682"/>'
            + "".join(columns) + f'<g fill="#1f2933" font-size="12">{axis}</g></svg>')


def _common(view, names, place, active):
    return {"places": names.municipalities(view.lang), "place": place, "active": active,
            "place_name": names.municipality(place, view.lang) if place else "–",
            "home_url": view.url("/dashboard", municipality=place)}


def dashboard(view, data, names, place, now):
    t = PAGES.catalog.translator(view.lang)
    summary = data["summary"]
    ideas, stats = summary["ideas"], summary["milestones"]
    series = data["submissions"]["series"][0]["points"]
    fields = [(name, ideas["by_field"].get(slug, 0), None) for slug, name in names.fields(place, view.lang)]
    known = {slug for slug, _ in names.fields(place, view.lang)}
    fields += [(slug, count, None) for slug, count in sorted(ideas["by_field"].items()) if slug not in known]
    total_new = sum(p["events"] for p in series)
    chart = column_chart(series, t("dashboard.submissions_chart", n=total_new,
                                   first=series[0]["start"].strftime("%d.%m.%Y") if series else "",
                                   last=series[-1]["start"].strftime("%d.%m.%Y") if series else ""))
    notifications = summary["notifications"]
    deliveries = [(channel, outcome, count) for outcome in ("sent", "failed")
                  for channel, count in sorted(notifications[outcome].items())]
    return PAGES.render(
        view, "dashboard.html.j2", **_common(view, names, place, "dashboard"), now=now,
        ideas=ideas, participants=summary["participants"], votes=summary["votes"]["cast"],
        pilot_count=sum(summary["pilots"][stage] for stage in PILOT_STAGES), on_time_rate=stats["on_time_rate"],
        overdue=stats["overdue"], by_field=fields,
        by_status=[(t(f"status.{status}"), ideas["by_status"].get(status, 0), None) for status in STATUSES
                   if status != "rejected"],
        chart=chart, pilots=data["pilots"], milestones=data["milestones"], pilot_names=_pilot_names(data["pilots"]),
        events_applied=summary["events_applied"], last_applied_at=summary["last_applied_at"], deliveries=deliveries,
        **{section: data[section] for section in PROCESS_SECTIONS})


def _pilot_names(pilots):
    return {str(p["idea_id"]): p["title"] for p in pilots if p["title"]}


def _step_text(t, step, sub_concepts):
    kind = step["step"]
    if kind == "submitted":
        channel = step.get("channel")
        return t("step.submitted") + (f" ({t('channel.' + channel)})" if channel else "")
    if kind == "published":
        return t("step.published")
    if kind == "status":
        return t("step.status", status=t(f"status.{step['status']}"))
    if kind == "threshold":
        return t("step.threshold", threshold=step["threshold"])
    if kind == "integrated":
        return t("step.integrated", title=sub_concepts.get(step["sub_concept_id"]) or t("idea.sub_concept"))
    if kind == "sponsor":
        return t("step.sponsor", who=step["public_name"] or t("sponsor." + step["sponsor_kind"]))
    if kind == "competition_shortlist":
        return t("step.competition_shortlist")
    if kind == "decision":
        if step["reason"] == "no_quorum":
            return t("step.no_quorum")
        return t(f"step.{step['decision']}", yes=step["yes"], no=step["no"],
                 abstain=t.n("abstentions", step["abstain"]))
    return t("step.other", what=kind)


def idea(view, page, names):
    t = PAGES.catalog.translator(view.lang)
    row, sub_concept = page["idea"], page["sub_concept"]
    # the story names the sub-concept by title (an idea is integrated into one at most)
    titles = {str(sub_concept["sub_concept_id"]): sub_concept["title"]} if sub_concept else {}
    story = [{**step, "text": _step_text(t, step, titles)} for step in page["story"]]
    sponsors = [s["public_name"] or t("sponsor." + s["sponsor_kind"]) for s in page["sponsors"]]
    return PAGES.render(view, "idea.html.j2", **_common(view, names, row["municipality"], "idea"), idea=row,
                        field_name=names.field(row["municipality"], row["field_of_action"], view.lang),
                        story=story, milestones=page["milestones"], sponsors=sponsors,
                        sub_concept=(sub_concept["title"] or t("idea.sub_concept")) if sub_concept else None,
                        comments=page["comments"])


def pilots(view, items, names, place):
    t = PAGES.catalog.translator(view.lang)
    shown = []
    for item in items:
        board = None
        if item["decided_at"]:
            board = t("pilots.board", when=format_date(item["decided_at"], view.lang), yes=item["yes"], no=item["no"],
                      abstain=t.n("abstentions", item["abstain"]))
        shown.append({**item, "board_text": board,
                      "field_name": names.field(item["municipality"], item["field_of_action"], view.lang)})
    return PAGES.render(view, "pilots.html.j2", **_common(view, names, place, "pilots"), pilots=shown)


def milestones(view, items, pilot_items, names, place):
    return PAGES.render(view, "milestones.html.j2", **_common(view, names, place, "milestones"), milestones=items,
                        pilot_names=_pilot_names(pilot_items))
