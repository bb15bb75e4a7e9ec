"""Gera demo data, loaded through the public API so every step emits its real events.

Ideas are drawn from the source documents (SMARTCity-Wochen, Fachgruppe Unternehmen der
kommunalen Infrastruktur, Großenhain's strategy workshop); the milestones are Gera's real
strategy milestones. The council decision (Q4 2021) is left unreached, so the overdue timer
shows MilestoneOverdue right after start.
"""
from functools import partial

IDEAS = [
    # (municipality, field, channel, working group, title, description, fate)
    ("gera", "wirtschaft-innovationskraft", "workshop", "AG Wirtschaft",
     "Marktplatz für digitale Produkte „Made in Gera“",
     "Innovative Produkte und Dienstleistungen aus Gera auf einer gemeinsamen digitalen Plattform zeigen, "
     "wie im Themenabend der SMARTCity-Wochen vorgeschlagen.", "shortlisted"),  # the board makes it a pilot
    ("gera", "bauen-wohnen-lebensraum", "workshop", "AG Wohnen",
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
    ("gera", "mobilitaet-infrastruktur", "competition", "AG Mobilität",
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

STRATEGY_MILESTONES = [
    ("Ideen aus Steckbriefen, Ideenwettbewerben und Ideenformular in Teilkonzepte integriert",
     "2021-03-31", "2021-03-31T16:00:00+02:00"),
    ("Alle Teilkonzepte zu einer Gesamtstrategie verknüpft", "2021-06-30", "2021-06-30T16:00:00+02:00"),
    ("Feinschliff des Strategieentwurfs und Gremienvorabstimmung", "2021-09-30", "2021-09-30T16:00:00+02:00"),
    ("Beschluss der SMARTCity-Strategie im Stadtrat", "2021-12-31", None),
]

PATH_TO = {
    "submitted": [], "rejected": [], "published": [],
    "shortlisted": ["shortlisted"],
}


def already_loaded(api):
    return api("ideas", "GET", "/api/v1/ideas?municipality=gera&page_size=1", role="moderator")["total"] > 0


def load(api):
    """`api(service, method, path, body=None, role=None)` does one API request and returns its JSON."""
    call = partial(api, "ideas")
    for municipality, field, channel, group, title, description, fate in IDEAS:
        body = {"municipality": municipality, "field_of_action": field, "channel": channel,
                "title": title, "description": description}
        if group:
            body["working_group"] = group
        idea = call("POST", "/api/v1/ideas", body, role="citizen")
        if fate != "submitted":
            decision = {"decision": "reject", "reason": "Widerspricht den Leitlinien der Stadtentwicklung"} \
                if fate == "rejected" else {"decision": "publish"}
            call("POST", f"/api/v1/ideas/{idea['id']}/moderation", decision, role="moderator")
        for status in PATH_TO[fate]:
            call("POST", f"/api/v1/ideas/{idea['id']}/status", {"status": status}, role="staff")
    for title, due, reached in STRATEGY_MILESTONES:
        milestone = call("POST", "/api/v1/milestones", {"municipality": "gera", "title": title, "due_date": due},
                         role="staff")
        if reached:
            call("POST", f"/api/v1/milestones/{milestone['id']}/reached", {"reached_at": reached}, role="staff")
    return f"{len(IDEAS)} ideas and Gera's strategy milestones"
