"""Gera's 2021 strategy process as demo data, through the public API (each step emits its events);
services/ideas/demo.py calls it once the groups, ideas and milestones are there.

The working groups hand in their sub-concepts (Teilkonzepte, due 31.03.2021), the SMARTCity team
links them into a strategy draft (30.06.2021) that goes out for feedback, closes it and publishes
the refined draft (30.09.2021), whose feedback window is open now; the council's decision (Q4 2021)
is left to be recorded. Citizens comment on ideas and on the draft; Gera pre-moderates, so one
comment waits in the moderation queue.

Feedback windows cannot lie in the past (the API refuses them), so the drafts' windows are set
from now; the milestones keep their 2021 dates (services/ideas/demo.py reaches them as they were).
"""
from datetime import datetime, timedelta, timezone

# (working group, sub-concept title, summary, field of action, titles of the ideas it integrates)
SUB_CONCEPTS = [
    ("AG Wirtschaft und Innovationskraft", "Teilkonzept Digitale Wirtschaft",
     "Sichtbarkeit Geraer Produkte und Dienstleistungen auf einer gemeinsamen Plattform.",
     "wirtschaft-innovationskraft", ["Marktplatz für digitale Produkte „Made in Gera“"]),
    ("AG Bauen, Wohnen und Lebensraum", "Teilkonzept Smartes Wohnen",
     "Altersgerechtes, energiesparendes Wohnen mit den Wohnungsunternehmen.",
     "bauen-wohnen-lebensraum", ["Smartes Wohnen in den eigenen vier Wänden"]),
    ("Fachgruppe Unternehmen der kommunalen Infrastruktur", "Teilkonzept Vernetzte Infrastruktur",
     "Offene Datenplattform der kommunalen Versorger für Energie, Wasser und Abfall.",
     "energie", ["Vernetzte Messdaten der kommunalen Versorger"]),
    ("AG Umwelt", "Teilkonzept Grüne Stadt",
     "Sensorik für Stadtgrün und Klimaanpassung.", "umwelt", ["Baumkataster mit Bodenfeuchte-Sensoren"]),
]
# A member of a working group may draft and integrate for it: the printed citizen token's subject is one.
MEMBER = ("AG Wirtschaft und Innovationskraft", "demo-citizen")
STRATEGY = "SMARTCity-Strategie Gera"
DRAFTS = [
    "Verknüpfung und Vernetzung aller Teilkonzepte zu einer Gesamtstrategie, eingeordnet in Ziele und "
    "Handlungsfelder und verknüpft mit den Leitlinien der Stadtentwicklung.",
    "Feinschliff des Strategieentwurfs nach dem Feedback aus der Bürgerschaft, zur Gremienvorabstimmung.",
]
# (idea title, author subject, text, a moderator publishes it, it replies to the comment before)
IDEA_COMMENTS = [
    ("Marktplatz für digitale Produkte „Made in Gera“", "demo-citizen-01",
     "Bitte auch kleine Handwerksbetriebe einbinden, nicht nur Start-ups.", True, False),
    ("Marktplatz für digitale Produkte „Made in Gera“", "demo-citizen-02",
     "Einverstanden – die Handwerkskammer könnte das begleiten.", True, True),
    ("Baumkataster mit Bodenfeuchte-Sensoren", "demo-citizen-03",
     "Die Daten sollten als Open Data veröffentlicht werden.", False, False),  # waits in the queue
]
DRAFT_COMMENTS = [
    ("demo-citizen-04", "Die Ortsteile kommen im Entwurf zu kurz."),
    ("demo-citizen-05", "Gut, dass Mobilität und Energie zusammen gedacht werden."),
]
REFINED_COMMENTS = [("demo-citizen-04", "Danke, die Ortsteile sind jetzt berücksichtigt.")]


def _comment(call, kind, target_id, author, text, publish, parent_id=None):
    body = {"target_kind": kind, "target_id": target_id, "text": text}
    if parent_id:
        body["parent_id"] = parent_id
    comment = call("POST", "/api/v1/comments", body, role="citizen", subject=author)
    if publish:
        call("POST", f"/api/v1/comments/{comment['id']}/moderation", {"decision": "publish"}, role="moderator")
    return comment["id"]


def load(call, groups, ideas):
    """`groups` {name: id} and `ideas` {title: id} as services/ideas/demo.py made them; a summary line."""
    group_name, subject = MEMBER
    call("POST", f"/api/v1/working-groups/{groups[group_name]}/members", {"member_id": subject}, role="staff")
    sub_concept_ids = []
    for group, title, summary, field, titles in SUB_CONCEPTS:
        # the member's group drafts its own; staff the others (with the groups, as the documents say)
        role = {"role": "citizen", "subject": subject} if group == group_name else {"role": "staff"}
        sub_concept = call("POST", "/api/v1/sub-concepts", {"working_group_id": groups[group], "title": title,
                                                            "summary": summary, "field_of_action": field}, **role)
        for idea_title in titles:
            call("POST", f"/api/v1/sub-concepts/{sub_concept['id']}/ideas", {"idea_id": ideas[idea_title]}, **role)
        call("POST", f"/api/v1/sub-concepts/{sub_concept['id']}/submission", **role)
        sub_concept_ids.append(sub_concept["id"])

    parent = None
    for title, author, text, publish, is_reply in IDEA_COMMENTS:
        parent = _comment(call, "idea", ideas[title], author, text, publish, parent if is_reply else None)

    strategy = call("POST", "/api/v1/strategies", {"municipality": "gera", "title": STRATEGY}, role="staff")
    base, now = f"/api/v1/strategies/{strategy['id']}", datetime.now(timezone.utc)

    def draft(summary, feedback_until, comments):
        call("POST", f"{base}/versions", {"sub_concept_ids": sub_concept_ids, "summary": summary,
                                          "feedback_until": feedback_until.isoformat()}, role="staff")
        for author, text in comments:
            _comment(call, "strategy", strategy["id"], author, text, publish=True)

    draft(DRAFTS[0], now + timedelta(days=1), DRAFT_COMMENTS)
    call("POST", f"{base}/feedback-closing", role="staff")  # the team closes it once the feedback is in
    draft(DRAFTS[1], now + timedelta(days=60), REFINED_COMMENTS)
    return (f"{len(SUB_CONCEPTS)} sub-concepts, the strategy draft in {len(DRAFTS)} versions (the refined one open "
            f"for feedback) and {len(IDEA_COMMENTS) + len(DRAFT_COMMENTS) + len(REFINED_COMMENTS)} comments")
