"""The language of a page, plurals, links that keep the language, and names instead of slugs."""
from shared.i18n import COMMON, Catalog, negotiate
from shared.pages import View, format_number
from shared.places import PlaceNames


def test_lang_wins_then_accept_language_then_german():
    assert negotiate("en", "de-DE,de;q=0.9") == "en"
    assert negotiate(None, "en-GB,en;q=0.9,de;q=0.8") == "en"
    assert negotiate(None, "fr-FR, de;q=0.5, en;q=0.4") == "de"
    assert negotiate("fr", "da, fr") == "de" and negotiate(None, None) == "de"
    assert negotiate(None, "en;q=0, de;q=0.1") == "de"


def test_plurals_and_a_catalogue_with_both_languages():
    catalog = Catalog(COMMON, {"votes": {"de": ("{n} Stimme", "{n} Stimmen"), "en": ("{n} vote", "{n} votes")}})
    de, en = catalog.translator("de"), catalog.translator("en")
    assert [de.n("votes", n) for n in (0, 1, 2)] == ["0 Stimmen", "1 Stimme", "2 Stimmen"]
    assert en.n("votes", 1) == "1 vote" and en("skip") == "Skip to content"
    try:
        Catalog({"half": {"de": "nur deutsch"}})
    except ValueError as exc:
        assert "lacks ['en']" in str(exc)
    else:
        raise AssertionError("a message without English was accepted")


def test_links_keep_the_language_and_the_switch_keeps_the_page():
    view = View("en", "/pilots", (("municipality", "gera"),))
    assert view.url() == "pilots?municipality=gera&lang=en"
    assert view.url("/ideas/x") == "ideas/x?lang=en"
    assert [(code, url, current) for code, _, url, current in view.languages()] == [
        ("de", "pilots?municipality=gera&lang=de", False), ("en", "pilots?municipality=gera&lang=en", True)]
    # relative, so they work wherever the service is mounted (behind the Ingress: /reporting/...)
    assert View("de", "/ideas/x").url("/dashboard") == "../dashboard?lang=de"
    assert View("de", "/my-data/delete").url("/my-data", token="t") == "../my-data?token=t&lang=de"
    assert View("de", "/ideas/x").url("/") == "../?lang=de"
    assert format_number(12345, "de") == "12\u202f345" and format_number(12345, "en") == "12,345"


def test_names_fall_back_to_slugs_when_unknown():
    names = PlaceNames([{"slug": "gera", "name": "Gera", "name_en": "Gera", "fields": [
        {"slug": "umwelt", "name": "Umwelt", "name_en": "Environment"}]}])
    assert names.field("gera", "umwelt", "en") == "Environment" and names.field("gera", "umwelt", "de") == "Umwelt"
    assert names.field("gera", "neu", "en") == "neu" and PlaceNames().municipality("gera", "de") == "gera"
    assert names.municipalities("de") == [("gera", "Gera")] and names.fields("elsewhere", "de") == []
