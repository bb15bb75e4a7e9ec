"""The pages behind the links in every mail, in a real browser: a citizen follows the real opt-in mail
from the SMTP sink, and every page passes axe-core in German and English."""
import os
import re
from pathlib import Path

import pytest

from tests.browser.driver import assert_accessible, run_browser
from tests.notifications.conftest import text_of
from tests.notifications.steps import LINK, announce, links_in, subscribe, subscribed

pytestmark = pytest.mark.integration

GERA_NEWS = [{"kind": "announcements", "municipality": "gera"}, {"kind": "pilot_decisions", "municipality": "gera"}]
SCREENSHOTS = os.environ.get("SMARTCITY_SCREENSHOTS")  # a folder: save the pages' pictures there


def test_a_citizen_follows_the_opt_in_mail_to_confirm_see_change_export_and_delete(
        notifications_api, notifications_sql, notifications_settings, mailbox):
    subscribe(notifications_api, "lena@example.org", GERA_NEWS, language="de")
    [mail] = mailbox.wait(1, to="lena@example.org")
    confirm_url = next(match.group(0) for match in LINK.finditer(text_of(mail)) if match.group(1) == "confirm")
    assert confirm_url.endswith("&lang=de")
    seen = run_browser({"kind": "journey", "confirm_url": confirm_url, "other_language_name": "English",
                        "screenshot": str(Path(SCREENSHOTS) / "confirm-de.png") if SCREENSHOTS else None})

    assert seen["confirm"]["button"] == "Ja, Abonnement bestätigen"
    assert_accessible(confirm_url, {"status": 200, **seen["confirm"]["audit"]})
    assert "Danke! Ihr Abonnement ist bestätigt" in seen["confirmed"]
    assert seen["my_data"]["email"] == "lena@example.org" and "/my-data?" in seen["my_data"]["url"]
    assert_accessible("my data", {"status": 200, **seen["my_data"]["audit"]})
    # the language change took effect: the page answers in English, and so will the mails
    assert seen["after_language"]["lang"] == "en" and "lang=en" in seen["after_language"]["url"]
    assert seen["after_language"]["notice"] == "Your changes are saved."
    exported = seen["export"]["subscriber"]
    assert (exported["email"], exported["language"]) == ("lena@example.org", "en") and exported["confirmed_at"]
    assert [d["trigger_type"] for d in seen["export"]["deliveries"]] == ["SubscriptionConfirmation"]
    assert "endgültig" not in seen["delete_question"]["text"]  # asked in English now
    assert "Shall we delete everything we keep about lena@example.org?" in seen["delete_question"]["text"]
    assert_accessible("delete", {"status": 200, **seen["delete_question"]["audit"]})
    assert "Your data is deleted." in seen["deleted"]
    for table in ("subscribers", "subscriptions", "deliveries", "link_tokens"):
        assert notifications_sql(f"SELECT count(*) FROM {table}") == [(0,)], table


def test_every_mail_link_page_passes_axe_in_german_and_english(notifications_api, notifications_settings, mailbox,
                                                                auth):
    base = "http://" + notifications_settings.http_address
    subscribe(notifications_api, "pending@example.org", GERA_NEWS)
    [confirmation] = mailbox.wait(1, to="pending@example.org")
    pending = links_in(confirmation)["confirm"]
    mailbox.clear()
    subscribed(notifications_api, mailbox, "sven@example.org", GERA_NEWS)
    announce(notifications_api, auth)
    [news] = mailbox.wait(1, to="sven@example.org")
    token = links_in(news)["my-data"]
    paths = [f"/confirm?token={pending}", f"/unsubscribe?token={token}", f"/my-data?token={token}",
             f"/my-data/delete?token={token}", f"/my-data?token={'x' * 43}"]
    urls = [f"{base}{path}&lang={lang}" for path in paths for lang in ("de", "en")]
    results = run_browser({"urls": urls})
    for url in urls:
        result = results[url]
        if "x" * 43 in url:
            assert result["status"] == 404  # the error page is a page too
            result = {**result, "status": 200}
        assert_accessible(url, result)
        assert result["landmarks"]["lang"] == url[-2:]
    # the "my data" page names the fields of action, not their slugs
    page = notifications_api("GET", f"/my-data?token={token}&lang=en").text
    shown = re.sub(r'value="[^"]*"', "", page)
    assert "Ideas in the field of action Mobility and infrastructure" in shown and "mobilitaet" not in shown
