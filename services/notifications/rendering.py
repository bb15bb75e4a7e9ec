"""Mail texts from Jinja2 templates (templates/<language>/), German and English, plain text and HTML.

Each mail is rendered twice, `<name>.txt.j2` and `<name>.html.j2` (HTML autoescaped); the
subject comes from the `subject` macro of the language's `_phrases.j2`. HTML templates import
the phrases as `_phrases.html.j2`: the same file, compiled with escaping (see PhrasesLoader).
HTML mails extend shared/templates/mail.html.j2: the pages' layout and style.
"""
from dataclasses import dataclass
from html import escape
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from shared.pages import SHARED_TEMPLATES, format_date, format_time

from .domain import group_for_digest

TEMPLATES = Path(__file__).resolve().parent / "templates"


# Stand-ins for a subscriber's own links: a notification is rendered once per language and
# trigger, then each subscriber's links are put in (`with_links`). They survive HTML escaping.
LINK_PLACEHOLDERS = {"unsubscribe": "@@UNSUBSCRIBE_URL@@", "manage": "@@MANAGE_URL@@"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str

    def with_links(self, links):
        text, html = self.text, self.html
        for name, placeholder in LINK_PLACEHOLDERS.items():
            text, html = text.replace(placeholder, links[name]), html.replace(placeholder, escape(links[name]))
        return Rendered(self.subject, text, html)


class PhrasesLoader(FileSystemLoader):
    """Serves `_phrases.j2` also as `_phrases.html.j2`.

    Jinja2 decides escaping when it compiles a template, by its name; a macro compiled for plain
    text would put an idea's title unescaped into HTML.
    """

    def get_source(self, environment, template):
        return super().get_source(environment, template.replace("_phrases.html.j2", "_phrases.j2"))


class Renderer:
    def __init__(self):
        self.env = Environment(loader=ChoiceLoader([PhrasesLoader(TEMPLATES), FileSystemLoader(SHARED_TEMPLATES)]),
                               autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
                               trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        self.env.filters["local_time"] = format_time
        self.env.filters["date"] = format_date

    def _render(self, language, name, subject_args, **context):
        phrases = self.env.get_template(f"{language}/_phrases.j2").module
        context["language"] = language
        return Rendered(
            subject=" ".join(str(phrases.subject(*subject_args)).split()),
            text=self.env.get_template(f"{language}/{name}.txt.j2").render(**context),
            html=self.env.get_template(f"{language}/{name}.html.j2").render(**context),
        )

    def confirmation(self, language, links):
        return self._render(language, "confirm", ("confirm", None), links=links)

    def notification(self, language, item, links):
        return self._render(language, "notification", ("item", item), item=item, links=links)

    def digest(self, language, mode, items, links):
        return self._render(language, "digest", (mode, items), groups=group_for_digest(items), count=len(items),
                            mode=mode, links=links)
