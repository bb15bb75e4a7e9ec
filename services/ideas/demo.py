"""Gera demo data, loaded through the public API so every step emits its real events.

Ideas are drawn from the source documents (SMARTCity-Wochen, Fachgruppe Unternehmen der
kommunalen Infrastruktur, Großenhain's strategy workshop); the milestones are Gera's real
strategy milestones. The council decision (Q4 2021) is left unreached, so the overdue timer
shows MilestoneOverdue right after start.

Gera's working groups come first (one per field of action and the Fachgruppe, as in the
documents), then an idea competition open now, so ideas can name their group and competition.
Gera's meetings of 2021 (services/ideas/meetings/demo.py) and the citizens' survey
(services/ideas/surveys/demo.py) follow; last comes the strategy process itself: sub-concepts, the
strategy draft and comments (services/ideas/strategy/demo.py).
"""
from datetime import datetime, timedelta, timezone
from functools import partial

from .meetings import demo as meetings_demo
from .strategy import demo as strategy_demo
from .surveys import demo as surveys_demo

# Gera's open working groups, one per field of action, and the expert group of the municipal companies.
GROUPS = [
    ("AG Bauen, Wohnen und Lebensraum", "working_group", "bauen-wohnen-lebensraum"),
    ("AG Energie", "working_group", "energie"),
    ("AG Mobilität und Infrastruktur", "working_group", "mobilitaet-infrastruktur"),
    ("AG Tourismus, Kultur und Freizeit", "working_group", "tourismus-kultur-freizeit"),
    ("AG Umwelt", "working_group", "umwelt"),
    ("AG Wirtschaft und Innovationskraft", "working_group", "wirtschaft-innovationskraft"),
    ("Fachgruppe Unternehmen der kommunalen Infrastruktur", "expert_group", None),
]
# The printed citizen token's subject sits on the jury, so the demo's shortlist can be tried.
COMPETITION = {"municipality": "gera", "field_of_action": "mobilitaet-infrastruktur",
               "theme": "Ideenwettbewerb: Mobilität in der Innenstadt", "jury": ["demo-citizen", "demo-jury-2"]}
PROFILES = {  # title -> the idea's profile (Steckbrief)
    "Vernetzte Messdaten der kommunalen Versorger": {
        "goal": "Netze für Energie, Wasser und Abfall vorausschauend steuern", "target_group": "Kommunale Versorger",
        "partners": ["Energieversorgung Gera GmbH", "Zweckverband Wasser/Abwasser Mittleres Elstertal (ZVME)"],
        "effort_months": 24, "cost_class": "high", "contact_consent": True},
    "Freie Parkplätze in Echtzeit": {
        "goal": "Weniger Parksuchverkehr in der Innenstadt", "target_group": "Pendler und Besucher der Innenstadt",
        "partners": ["Elstertal Infraprojekt"], "effort_months": 12, "cost_class": "medium",
        "contact_consent": False},
}
SPONSOR = ("Marktplatz für digitale Produkte „Made in Gera“", "demo-sponsor-ihk",
           {"kind": "institution", "display_name": "Wirtschaftsförderung Gera", "show_name": True})

IDEAS = [
    # (municipality, field, channel, working group, title, description, fate)
    ("gera", "wirtschaft-innovationskraft", "workshop", "AG Wirtschaft und Innovationskraft",
     "Marktplatz für digitale Produkte „Made in Gera“",
     "Innovative Produkte und Dienstleistungen aus Gera auf einer gemeinsamen digitalen Plattform zeigen, "
     "wie im Themenabend der SMARTCity-Wochen vorgeschlagen.", "shortlisted"),  # the board makes it a pilot
    ("gera", "bauen-wohnen-lebensraum", "workshop", "AG Bauen, Wohnen und Lebensraum",
     "Smartes Wohnen in den eigenen vier Wänden",
     "Musterwohnung mit Sensorik für altersgerechtes, energiesparendes Wohnen gemeinsam mit den "
     "Wohnungsunternehmen erproben.", "shortlisted"),
    ("gera", "energie", "profile", "Fachgruppe Unternehmen der kommunalen Infrastruktur",
     "Vernetzte Messdaten der kommunalen Versorger",
     "Energieversorgung, Wasser/Abwasser und Abfallwirtschaft führen ihre Messdaten in einer offenen "
     "Datenplattform zusammen, um Netze vorausschauend zu steuern.", "published"),
    ("gera", "tourismus-kultur-freizeit", "form", None,
     "Digitale Themenabende dauerhaft anbieten",
     "Die digitalen Themenabende auf unser.gera.de waren gut besucht und sollen nach der "
     "Strategiephase regelmäßig stattfinden.", "published"),
    ("gera", "mobilitaet-infrastruktur", "competition", "AG Mobilität und Infrastruktur",
     "Freie Parkplätze in Echtzeit",
     "Sensoren an Parkplätzen der Innenstadt melden freie Plätze an eine App und an die Anzeigetafeln "
     "an den Stadteinfahrten.", "submitted"),
    ("gera", "umwelt", "form", None,
     "Baumkataster mit Bodenfeuchte-Sensoren",
     "Stadtbäume erhalten Bodenfeuchte-Sensoren, damit in trockenen Sommern gezielt gegossen werden kann.",
     "published"),
    ("gera", "umwelt", "form", None,
     "Werbeflächen für private Anbieter",
     "Alle Laternen sollen Werbebildschirme eines einzelnen privaten Anbieters bekommen.", "rejected"),
    ("grossenhain", "verwaltung", "workshop", None,
     "Digitales Bürgeramt für Stadt und Ortsteile",
     "Anträge online stellen und den Stand verfolgen, damit der Weg aus den Ortsteilen in die "
     "Stadtverwaltung seltener nötig ist.", "published"),
    ("grossenhain", "gesundheit", "workshop", None,
     "Telemedizin gegen das Stadt-Land-Gefälle",
     "Videosprechstunden in Zusammenarbeit mit Hausarztpraxen für Menschen in den ländlichen Ortsteilen.",
     "published"),
]

# (title, due, reached at, the strategy step it is tied to): the first three were reached in 2021 and are
# marked so here; the council's is left to its step (StrategyAdopted reaches it).
STRATEGY_MILESTONES = [
    ("Ideen aus Steckbriefen, Ideenwettbewerben und Ideenformular in Teilkonzepte integriert",
     "2021-03-31", "2021-03-31T16:00:00+02:00", "sub_concepts_submitted"),
    ("Alle Teilkonzepte zu einer Gesamtstrategie verknüpft", "2021-06-30", "2021-06-30T16:00:00+02:00",
     "strategy_draft_published"),
    ("Feinschliff des Strategieentwurfs und Gremienvorabstimmung", "2021-09-30", "2021-09-30T16:00:00+02:00",
     "strategy_draft_refined"),
    ("Beschluss der SMARTCity-Strategie im Stadtrat", "2021-12-31", None, "strategy_adopted"),
]

PATH_TO = {
    "submitted": [], "rejected": [], "published": [],
    "shortlisted": ["shortlisted"],
}


def already_loaded(api):
    return api("ideas", "GET", "/api/v1/ideas?municipality=gera&page_size=1", role="moderator")["total"] > 0


def load_groups_and_competition(call):
    """Gera's working groups ({name: id}) and an idea competition open for 30 days (its id)."""
    groups = {}
    for name, kind, field in GROUPS:
        group = call("POST", "/api/v1/working-groups", {"municipality": "gera", "name": name, "kind": kind,
                                                         "field_of_action": field}, role="staff")
        groups[name] = group["id"]
    now = datetime.now(timezone.utc)
    competition = call("POST", "/api/v1/competitions", {
        **COMPETITION, "opens_at": (now - timedelta(days=1)).isoformat(),
        "closes_at": (now + timedelta(days=30)).isoformat()}, role="staff")
    return groups, competition["id"]


def load_sponsor(call, ideas):
    """A sponsor (Ideenpate) for the marketplace idea, offered and accepted."""
    title, subject, body = SPONSOR
    idea_id = ideas[title]
    offered = call("POST", f"/api/v1/ideas/{idea_id}/sponsors", body, role="citizen", subject=subject)
    call("POST", f"/api/v1/ideas/{idea_id}/sponsors/{offered['id']}/acceptance", role="staff")


def load(api):
    """`api(service, method, path, body=None, role=None, subject=None)` does one API request and returns its JSON."""
    call = partial(api, "ideas")
    groups, competition_id = load_groups_and_competition(call)
    ideas = {}
    for municipality, field, channel, group, title, description, fate in IDEAS:
        body = {"municipality": municipality, "field_of_action": field, "channel": channel,
                "title": title, "description": description}
        if group:
            body["working_group_id"] = groups[group]
        if channel == "competition":
            body["competition_id"] = competition_id
        if title in PROFILES:
            body["profile"] = PROFILES[title]
        idea = call("POST", "/api/v1/ideas", body, role="citizen")
        ideas[title] = idea["id"]
        if fate != "submitted":
            decision = {"decision": "reject", "reason": "Widerspricht den Leitlinien der Stadtentwicklung"} \
                if fate == "rejected" else {"decision": "publish"}
            call("POST", f"/api/v1/ideas/{idea['id']}/moderation", decision, role="moderator")
        for status in PATH_TO[fate]:
            call("POST", f"/api/v1/ideas/{idea['id']}/status", {"status": status}, role="staff")
    for title, due, reached, step in STRATEGY_MILESTONES:
        milestone = call("POST", "/api/v1/milestones", {"municipality": "gera", "title": title, "due_date": due,
                                                        "step": step}, role="staff")
        if reached:
            call("POST", f"/api/v1/milestones/{milestone['id']}/reached", {"reached_at": reached}, role="staff")
    load_sponsor(call, ideas)
    return "; ".join([f"{len(GROUPS)} working groups, a competition, {len(IDEAS)} ideas"
                      f" ({len(PROFILES)} with profiles), a sponsor and Gera's strategy milestones",
                      meetings_demo.load(), surveys_demo.load(api), strategy_demo.load(call, groups, ideas)])
