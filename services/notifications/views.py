"""The pages behind the links in every mail: confirm, unsubscribe, "my data" (see, change, export, delete).

Each page works from the link alone (its token), in the reader's language; a GET only shows, and a
button's POST acts. The handlers in service.py call a use case and hand its result to one of these.
"""
import json
from pathlib import Path

from shared.i18n import LANGUAGE_NAMES, LANGUAGES
from shared.pages import Pages, page_response
from shared.web import json_default

from . import domain
from .texts import MESSAGES

PAGES = Pages(Path(__file__).resolve().parent / "templates" / "pages", MESSAGES)
SUBSCRIBABLE = (domain.ANNOUNCEMENTS, domain.MEETINGS, domain.STRATEGY, domain.PILOT_DECISIONS, domain.MILESTONES)


def confirmation(view, state):
    return PAGES.render(view, "confirm.html.j2", state=state)


def link_expired(view):
    """An expired confirmation link: the page says to subscribe again."""
    return PAGES.render(view, "expired.html.j2", status=410, message_key="confirm.expired")


def unsubscribe(view, token, subscriber, done=False):
    return PAGES.render(view, "unsubscribe.html.j2", token=token, subscriber=subscriber, done=done)


def _topic_choices(view, names, chosen, groups):
    """Per municipality: [(topic, label, checked)] of everything one can subscribe to there.

    `groups`: {municipality: {working group id: name}}, whose meetings one may follow each.
    """
    t = PAGES.catalog.translator(view.lang)
    places = []
    for slug, name in names.municipalities(view.lang):
        topics = [(domain.topic(kind, slug), t(f"topic.{kind}"), None) for kind in SUBSCRIBABLE]
        topics += [(domain.topic(domain.FIELD, slug, field_of_action=field), t("topic.field", field=field_name), None)
                   for field, field_name in names.fields(slug, view.lang)]
        topics += [(domain.topic(domain.MEETINGS, slug, working_group_id=group),
                    t("topic.group_meetings", name=group_name), None)
                   for group, group_name in sorted(groups.get(slug, {}).items(), key=lambda item: item[1])]
        places.append({"name": name, "topics": [(topic, label, topic in chosen) for topic, label, _ in topics]})
    return places


def my_data(view, token, profile, names, saved=False):
    chosen = {domain.topic(**subscription) for subscription in profile["subscriptions"]}
    t = PAGES.catalog.translator(view.lang)
    ideas = [(domain.topic(domain.IDEA, idea_id=s["idea_id"]),
              t("topic.idea", title=profile["idea_titles"].get(s["idea_id"]) or s["idea_id"]))
             for s in profile["subscriptions"] if s["kind"] == domain.IDEA]
    return PAGES.render(view, "my_data.html.j2", token=token, subscriber=profile, saved=saved,
                        languages=[(code, LANGUAGE_NAMES[code]) for code in LANGUAGES], digests=domain.DIGESTS,
                        places=_topic_choices(view, names, chosen, profile["working_groups"]), ideas=ideas)


def delete(view, token, subscriber=None, done=False):
    return PAGES.render(view, "delete.html.j2", token=token, subscriber=subscriber, done=done)


def export_file(view, export):
    """Everything stored, as a JSON file to save."""
    body = json.dumps(export, default=json_default, ensure_ascii=False, indent=2)
    response = page_response(body, view.lang, headers={
        "Content-Disposition": 'attachment; filename="smartcity-my-data.json"'})
    response.content_type = "application/json; charset=utf-8"
    return response
