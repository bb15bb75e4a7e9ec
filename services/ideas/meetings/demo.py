"""Gera's meetings of 2021 as demo data: the theme evenings of the working groups during the
SMARTCity-Wochen (Tuesdays and Thursdays from 17:00 until 25 February, online on unser.gera.de) and
the 4th plenary meeting (Vollversammlung) of 14 April 2021, where the topic stores were presented.

These meetings lie in the past, and the API rightly refuses to schedule a past meeting. So they are
replayed: the same use cases run on a unit of work whose clock stands at the moment staff scheduled
them (January 2021) and citizens registered (early February), and their events leave through the
outbox like any others (the running service's relay publishes them). Each theme evening belongs to
its working group, found by name (the groups come first in services/ideas/demo.py). The topics of
4, 9 and 11 February are the source documents'; the others follow Gera's fields of action.
"""
from datetime import datetime, timedelta, timezone

from shared import config
from shared.db import Pool, SqlUnitOfWork
from shared.domain import MUNICIPAL_TZ
from shared.errors import found

from ..repository import IdeasRepository
from . import use_cases
from .commands import Register, ScheduleMeeting

ONLINE = "https://unser.gera.de"
SCHEDULED_AT = datetime(2021, 1, 25, 9, 0, tzinfo=timezone.utc)
REGISTERED_AT = datetime(2021, 2, 1, 12, 0, tzinfo=timezone.utc)
THEME_EVENINGS = [  # (day in February 2021, working group, title)
    (2, "AG Mobilität und Infrastruktur", "Vernetzt unterwegs: Mobilität und Infrastruktur in Gera"),
    (4, "AG Wirtschaft und Innovationskraft", "Innovative Produkte und Dienstleistungen „Made in Gera“"),
    (9, "Fachgruppe Unternehmen der kommunalen Infrastruktur", "Digitale Datenlösungen für Gera"),
    (11, "AG Bauen, Wohnen und Lebensraum", "Smartes Wohnen in den eigenen vier Wänden"),
    (16, "AG Energie", "Energie: erneuerbar, gespeichert, vernetzt"),
    (18, "AG Umwelt", "Stadtgrün und Klima: Sensorik für die Umwelt"),
    (23, "AG Tourismus, Kultur und Freizeit", "Kultur und Freizeit digital erleben"),
    (25, "AG Wirtschaft und Innovationskraft", "Abschluss der Themenabende: Was nehmen wir in die Strategie mit?"),
]
PLENARY = ("4. Vollversammlung SMARTCity Gera: Vorstellung der Themenspeicher",
           datetime(2021, 4, 14, 17, 0, tzinfo=MUNICIPAL_TZ))
ATTENDEES = 12  # demo citizens registered for each theme evening (capacity: 100 in the virtual room)


class _Clock:
    """The replay's clock: stands where it is set."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def load():
    """Replay the meetings (see the module's docstring) on the ideas database of this configuration."""
    settings = config.load("ideas")
    pool = Pool(settings.database_url, 1)
    clock = _Clock(SCHEDULED_AT)
    uow = SqlUnitOfWork("ideas", pool, IdeasRepository, clock=clock)
    try:
        evenings = []
        for day, group_name, title in THEME_EVENINGS:
            with uow:
                group = found(uow.repo.group_named("gera", group_name), f"working group {group_name!r}")
            starts = datetime(2021, 2, day, 17, 0, tzinfo=MUNICIPAL_TZ)
            evenings.append(use_cases.schedule_meeting(uow, ScheduleMeeting(
                municipality="gera", kind="theme_evening", title=title, starts_at=starts,
                ends_at=starts + timedelta(hours=2), working_group_id=group["id"],
                online_url=ONLINE, capacity=100)))
        title, starts = PLENARY
        use_cases.schedule_meeting(uow, ScheduleMeeting(
            municipality="gera", kind="plenary", title=title, starts_at=starts, ends_at=starts + timedelta(hours=2),
            online_url=ONLINE))
        clock.now = REGISTERED_AT
        for meeting in evenings:
            for n in range(ATTENDEES):
                clock.now += timedelta(minutes=7)
                use_cases.register(uow, Register(meeting["id"], f"demo-citizen-{n}"))
    finally:
        pool.close()
    return f"{len(THEME_EVENINGS)} theme evenings and a plenary meeting of 2021"
