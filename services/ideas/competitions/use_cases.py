"""Competitions: open, list, show (entries to the jury and staff), close (staff or the timer, once),
shortlist an entry (once per idea)."""
import uuid

from shared.domain import REJECTED
from shared.errors import Conflict, Forbidden, InvalidInput, found

from ..reference import require_field, require_municipality
from . import domain
from .commands import CloseCompetition, GetCompetition, ListCompetitions, OpenCompetition, ShortlistEntry


def _ref(competition):
    return {"competition_id": competition["id"], "municipality": competition["municipality"],
            "field_of_action": competition["field_of_action"]}


def _shown(competition, now, entries=None):
    shown = {**competition, "state": domain.state(competition, now), "jury_size": len(competition["jury"])}
    if entries is not None:
        shown["entries"] = entries
    return shown


def open_competition(uow, command: OpenCompetition):
    now = uow.now()
    if command.closes_at <= now:
        raise InvalidInput("the competition would be closed already", {"closes_at": ["must be in the future"]})
    competition = {"id": uuid.uuid4(), "municipality": command.municipality,
                   "field_of_action": command.field_of_action, "theme": command.theme,
                   "opens_at": command.opens_at, "closes_at": command.closes_at, "jury": list(command.jury),
                   "created_at": now, "closed_at": None}
    with uow:
        require_field(uow.repo, command.municipality, command.field_of_action)
        uow.repo.add_competition(competition)
        uow.emit("CompetitionOpened", {
            **_ref(competition), "theme": competition["theme"], "opens_at": competition["opens_at"],
            "closes_at": competition["closes_at"], "jury_size": len(competition["jury"]), "opened_at": now,
        }, subject=str(competition["id"]))
    return _shown({**competition, "entry_count": 0}, now, [])


def list_competitions(uow, query: ListCompetitions):
    now = uow.now()
    with uow:
        if query.municipality is not None:
            require_municipality(uow.repo, query.municipality)
        return [_shown(c, now) for c in uow.repo.competitions(query.municipality)]


def get_competition(uow, query: GetCompetition):
    now = uow.now()
    with uow:
        competition = found(uow.repo.get_competition(query.competition_id), "competition")
        entries = uow.repo.competition_entries(competition["id"]) if domain.judges(competition, query.viewer) else None
    return _shown(competition, now, entries)


def close_competition(uow, command: CloseCompetition):
    """Close a competition early (or on time); closing a closed one changes nothing and emits nothing."""
    now = uow.now()
    with uow:
        found(uow.repo.get_competition(command.competition_id, lock=True), "competition")
        closed = uow.repo.close_competition(command.competition_id, now)
        if closed is not None:
            _emit_closed(uow, closed, now)
        return _shown(uow.repo.get_competition(command.competition_id), now,
                      uow.repo.competition_entries(command.competition_id))


def close_due_competitions(uow):
    """The timer: emit CompetitionClosed exactly once for each competition whose window has ended."""
    now = uow.now()
    with uow:
        closed = uow.repo.claim_due_competitions(now)
        for competition in closed:
            _emit_closed(uow, competition, now)
    return len(closed)


def _emit_closed(uow, competition, now):
    uow.emit("CompetitionClosed", {**_ref(competition), "entries": competition["entry_count"], "closed_at": now},
             subject=str(competition["id"]))


def shortlist_entry(uow, command: ShortlistEntry):
    """The jury (or staff) shortlist an entry; shortlisting it again changes nothing and emits nothing."""
    now = uow.now()
    with uow:
        competition = found(uow.repo.get_competition(command.competition_id), "competition")
        if not domain.judges(competition, command.judge):
            raise Forbidden("only the competition's jury or staff shortlist its entries")
        idea = uow.repo.get_idea(command.idea_id)
        if idea is None or idea["competition_id"] != competition["id"]:
            raise InvalidInput("not an entry", {"idea_id": ["is not an entry of this competition"]})
        if idea["status"] == REJECTED:
            raise Conflict("the entry was rejected in moderation", {"idea_id": ["the entry was rejected"]})
        if uow.repo.add_shortlisted(competition["id"], idea["id"], command.judge.subject, now):
            uow.emit("CompetitionEntryShortlisted", {**_ref(competition), "idea_id": idea["id"], "shortlisted_at": now},
                     subject=str(competition["id"]))
        return _shown(competition, now, uow.repo.competition_entries(competition["id"]))
