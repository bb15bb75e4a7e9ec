"""Reporting's public pages in a real browser: the council dashboard, an idea's page, the pilot projects and
the milestones, each in German and English, pass axe-core; they show names, not slugs."""
import os
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.event_stream import envelope
from shared.events import service_of
from tests.browser.driver import assert_accessible, run_browser
from tests.reporting.helpers import wait_applied
from tests.reporting.test_api import PILOT, SUBMITTED, scenario

pytestmark = pytest.mark.integration

SCREENSHOTS = os.environ.get("SMARTCITY_SCREENSHOTS")  # a folder: save the pages' pictures there


@pytest.fixture
def published(reporting_api, reporting_sql, publish_event):
    today = datetime.now(timezone.utc).replace(hour=10, minute=0, second=0, microsecond=0)
    recent = [envelope("IdeaSubmitted", uuid.uuid4(), today - timedelta(days=day), author_id=f"citizen-{day}",
                       field="mobilitaet-infrastruktur")
              for day in (0, 1, 1, 3, 6, 6, 6, 12, 20)]
    events = scenario() + recent
    for event in events:
        publish_event(service_of(event["type"]), event["type"], envelope=event)
    wait_applied(reporting_sql, len(events))
    return reporting_api


def visible_text(html):
    """What a reader sees: no tags, no attribute values."""
    return re.sub(r"<[^>]+>", " ", html)


def test_the_dashboard_speaks_to_a_council_in_both_languages(published):
    german = published("GET", "/dashboard?municipality=gera", headers={"Accept-Language": "de-DE,de;q=0.9"})
    assert german.status_code == 200 and german.headers["Content-Language"] == "de"
    assert "default-src 'none'" in german.headers["Content-Security-Policy"] and "<script" not in german.text
    text = visible_text(german.text)
    assert "Stand der Bürgerbeteiligung in Gera" in text
    assert "Mobilität und Infrastruktur" in text and "mobilitaet" not in text  # names, not slugs
    assert "Bildung" not in text  # Großenhain's field is not mixed in
    assert '<b id="kpi-ideas">11</b>' in german.text and '<b id="kpi-pilots">1</b>' in german.text
    assert "Pilotprojekt beschlossen" in text  # the plural fits the number
    assert "Für den technischen Betrieb" in text  # technical figures apart
    assert 'data-value="3"><title>' in german.text  # three submissions six days ago
    # the pilot by name with its stage; milestones named with their pilot
    assert re.search(r"Solardächer\s*</a>\s*</td>\s*<td><span class=\"state state-approved\">beschlossen", german.text)
    english = published("GET", "/dashboard?municipality=gera&lang=en", headers={"Accept-Language": "de"})
    text = visible_text(english.text)
    assert "Citizen participation in Gera" in text and "Mobility and infrastructure" in text
    assert 'href="pilots?municipality=gera&amp;lang=en"' in english.text  # the choice kept in (relative) links
    other = visible_text(published("GET", "/dashboard?municipality=grossenhain").text)
    assert "Stand der Bürgerbeteiligung in Großenhain" in other and "Bildung" in other and "Energie" not in other


def test_the_dashboard_shows_the_strategy_process_in_both_languages(published):
    german = visible_text(published("GET", "/dashboard?municipality=gera").text)
    for shown in ("Ergebnisse der Bürgerbefragung", "Nutzen Sie das Internet täglich?", "412",
                  "durchgeführt von Duale Hochschule Gera-Eisenach", "Smart-City-Strategie",
                  "vom Stadtrat zurückverwiesen", "Teilkonzepte", "Energie im Quartier", "Energie und Umwelt",
                  "Arbeitsgruppe", "Ideenwettbewerbe", "Nächste Termine", "Plenum 2030",
                  "Kommentare: 0 sichtbar, 0 warten auf die Moderation, 1 ausgeblendet."):
        assert shown in german, shown
    assert "Themenabend Energie" not in german  # over (and cancelled): not upcoming
    english = visible_text(published("GET", "/dashboard?municipality=gera&lang=en").text)
    for shown in ("Results of the citizens&#39; survey", "run by Duale Hochschule", "returned by the council",
                  "Working groups and their topic stores", "Idea competitions", "Upcoming meetings",
                  "plenary meeting", "Comments: 0 visible"):
        assert shown in english, shown
    other = visible_text(published("GET", "/dashboard?municipality=grossenhain&lang=en").text)
    assert "No survey results yet." in other and "No strategy draft yet." in other


def test_an_ideas_page_tells_its_story(published):
    page = published("GET", f"/ideas/{PILOT}?lang=en")
    assert page.status_code == 200
    text = visible_text(page.text)
    for step in ("Submitted (idea form)", "Published after moderation", "New status: shortlisted",
                 "The strategy board chose it as a pilot project (7 for, 2 against, 1 abstention)"):
        assert step in text, step
    assert "2 supporters" in text and "Energy" in text and "pilot project" in text
    for process in ("Shortlisted by the jury of the idea competition", "New idea sponsor: Stadtwerke Gera",
                    "Integrated into the sub-concept “Energie im Quartier”"):
        assert process in text, process
    assert re.search(r"Idea sponsors\s*</th>\s*<td id=\"idea-sponsors\">Stadtwerke Gera<", page.text)
    assert '<td id="idea-sub-concept">Energie im Quartier</td>' in page.text
    assert '<td id="idea-comments">0</td>' in page.text  # its one comment is hidden
    assert "reached on" in text and "on time" in text  # its milestone
    hidden = published("GET", f"/ideas/{SUBMITTED}?lang=en")  # awaiting moderation: no page
    assert hidden.status_code == 404 and "This page does not exist" in hidden.text


def test_the_pilot_projects_and_milestones_pages(published):
    pilots = visible_text(published("GET", "/pilots?municipality=gera").text)
    assert "Pilotprojekte in Gera" in pilots and "Solardächer" in pilots
    assert "Strategiekreis am" in pilots and "7 dafür, 2 dagegen, 1 Enthaltung" in pilots
    assert "Meilensteine erreicht: 1 von 1" in pilots
    milestones = published("GET", "/milestones?municipality=gera&lang=en").text
    assert "Milestones in Gera" in milestones and "overdue since" in milestones
    assert f'href="ideas/{PILOT}?lang=en"' in milestones  # a pilot's milestone names its pilot
    assert "The whole strategy" in milestones
    bad = published("GET", "/pilots?municipality=Not%20a%20slug&lang=en")
    assert bad.status_code == 422 and "Please check your input: municipality" in bad.text


def test_every_public_page_passes_axe_in_german_and_english(published, reporting_url):
    paths = ["/dashboard?municipality=gera", "/dashboard?municipality=grossenhain", f"/ideas/{PILOT}",
             "/pilots?municipality=gera", "/milestones?municipality=gera", f"/ideas/{uuid.uuid4()}"]
    urls = [f"{reporting_url}{path}{'&' if '?' in path else '?'}lang={lang}" for path in paths
            for lang in ("de", "en")]
    shots = {}
    if SCREENSHOTS:
        shots = {f"{reporting_url}/dashboard?municipality=gera&lang=de": str(Path(SCREENSHOTS) / "dashboard-de.png"),
                 f"{reporting_url}/ideas/{PILOT}?lang=en": str(Path(SCREENSHOTS) / "idea-en.png")}
    results = run_browser({"urls": urls, "screenshots": shots})
    for url in urls:
        result = results[url]
        if "/ideas/" in url and str(PILOT) not in url:
            assert result["status"] == 404
            result = {**result, "status": 200}  # the refusal is an accessible page too
        assert_accessible(url, result)
        assert result["landmarks"]["lang"] == url[-2:]


def test_the_pages_make_run_prints_answer(reporting_api):
    from services.reporting import SPEC

    assert SPEC.start_paths
    for path, _ in SPEC.start_paths:
        assert reporting_api("GET", path).status_code == 200, path
    start = reporting_api("GET", "/?lang=en", allow_redirects=False)
    assert start.status_code == 302 and start.headers["Location"].endswith("dashboard?lang=en")
