"""German and English for every word a person reads: the language of a request, and message catalogues.

A page's language is `?lang=` when it names one we have, else the best match of the browser's
`Accept-Language`, else German (the municipalities' language). Messages live in catalogues,
`{key: {"de": text, "en": text}}`; a plural message has a (one, other) pair per language.
Each service keeps its own catalogue beside its pages; `COMMON` holds what every page says.
"""
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def negotiate(requested=None, accept_language=None):
    """The language to answer in: a supported `requested` one, else Accept-Language's best, else German."""
    if requested in LANGUAGES:
        return requested
    best, best_quality = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # the earlier of two equal qualities wins, as the browser listed them
        if primary in LANGUAGES and quality > best_quality and quality > 0:
            best, best_quality = primary, quality - position * 1e-6
    return best


def plural_form(count):
    """German and English agree: one for exactly 1, other for everything else (0 included)."""
    return 0 if count == 1 else 1


class Catalog:
    """Messages by key and language; `translator(lang)` gives the `t` that templates and code call."""

    def __init__(self, *parts):
        self.messages = {}
        for part in parts:
            overlap = set(self.messages) & set(part)
            if overlap:
                raise ValueError(f"message keys defined twice: {sorted(overlap)}")
            self.messages.update(part)
        for key, texts in self.messages.items():
            missing = set(LANGUAGES) - set(texts)
            if missing:
                raise ValueError(f"message {key!r} lacks {sorted(missing)}")

    def translator(self, lang):
        return Translator(self, lang)


class Translator:
    """`t("key", name=...)` and `t.n("key", count)`: a message in one language, formatted."""

    def __init__(self, catalog, lang):
        self.catalog, self.lang = catalog, lang

    def __call__(self, key, **values):
        text = self.catalog.messages[key][self.lang]
        return text.format(**values) if values else text

    def n(self, key, count, **values):
        text = self.catalog.messages[key][self.lang][plural_form(count)]
        return text.format(n=count, **values)

    def has(self, key):
        return key in self.catalog.messages


COMMON = {
    "site": {"de": "SmartCity-Bürgerbeteiligung", "en": "SmartCity citizen participation"},
    "skip": {"de": "Zum Inhalt springen", "en": "Skip to content"},
    "language": {"de": "Sprache", "en": "Language"},
    "main_nav": {"de": "Hauptnavigation", "en": "Main navigation"},
    "footer": {"de": "Ein Angebot der Modellprojekte Smart Cities. Keine Werbung, keine Verfolgung.",
               "en": "Part of the Smart Cities model projects. No advertising, no tracking."},
    "error.title": {"de": "Das hat nicht geklappt", "en": "That did not work"},
    "error.400": {"de": "Die Anfrage war unvollständig oder fehlerhaft.",
                  "en": "The request was incomplete or malformed."},
    "error.401": {"de": "Dieser Link ist nicht (mehr) gültig.", "en": "This link is not (or no longer) valid."},
    "error.403": {"de": "Dafür fehlt Ihnen die Berechtigung.", "en": "You are not allowed to do this."},
    "error.404": {"de": "Diese Seite gibt es nicht, oder der Link ist schon benutzt worden.",
                  "en": "This page does not exist, or the link has been used already."},
    "error.405": {"de": "Diese Seite kann so nicht aufgerufen werden.", "en": "This page cannot be used like that."},
    "error.408": {"de": "Die Eingabe kam zu langsam an. Bitte senden Sie sie noch einmal.",
                  "en": "The input arrived too slowly. Please send it again."},
    "error.409": {"de": "Das passt nicht zum jetzigen Stand.", "en": "That does not fit the current state."},
    "error.410": {"de": "Dieser Link ist abgelaufen. Jede neue Nachricht von uns bringt einen neuen Link mit.",
                  "en": "This link has expired. Every new mail from us brings a fresh link."},
    "error.413": {"de": "Die Eingabe ist zu groß.", "en": "The input is too large."},
    "error.415": {"de": "Die Eingabe hat ein Format, das wir nicht verstehen.",
                  "en": "The input has a format we do not understand."},
    "error.422": {"de": "Bitte prüfen Sie Ihre Eingabe: {fields}", "en": "Please check your input: {fields}"},
    "error.429": {"de": "Gerade kommen zu viele Anfragen von Ihrem Anschluss. Bitte versuchen Sie es gleich noch einmal.",
                  "en": "Too many requests are coming from your connection. Please try again in a moment."},
    "error.500": {"de": "Bei uns ist ein Fehler aufgetreten. Bitte versuchen Sie es später noch einmal.",
                  "en": "Something went wrong on our side. Please try again later."},
    "error.503": {"de": "Ein Teil des Systems antwortet gerade nicht. Bitte versuchen Sie es gleich noch einmal.",
                  "en": "Part of the system is not answering right now. Please try again in a moment."},
    "error.back": {"de": "Zur Startseite", "en": "To the start page"},
}
