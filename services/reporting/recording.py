"""The write side of reporting: log every consumed event once and fold it into the projections.

    recorded = record_events(uow, envelopes, key)  # [True, False, ...]: applied now, or already before
    replayed = rebuild(uow)                   # the projections again, from the whole log

The event log's unique id is the inbox here: an event already in it is a redelivery and
changes nothing. The live consumer hands batches to `record_events` through
shared.group_commit; `smartcity reporting rebuild` runs `rebuild`.
"""
from . import domain
from .projector import MemoryStore


def record_events(uow, envelopes, pseudonym_key):
    """Log a batch of consumed envelopes and update every projection, in one transaction.

    Authors are logged under their pseudonym keyed with `pseudonym_key`.
    Returns one flag per envelope, in order: True when it was applied now, False for a
    redelivery (already in the log) or a second copy within the batch, so each event counts once.
    """
    received_at = uow.now()
    events = [domain.to_logged(envelope, received_at, pseudonym_key) for envelope in envelopes]
    with uow:
        uow.repo.lock_appliers()
        events = _with_places(uow.repo, events)
        new = uow.repo.append(events)
        fresh = list({event.id: event for event in events if event.id in new}.values())
        changes = [change for event in fresh for change in domain.effects(event)]
        store = MemoryStore()
        store.load(uow.repo, changes)
        domain.apply(store, changes)
        store.save(uow.repo)
    applied, seen = [], set()
    for envelope in envelopes:
        applied.append(envelope["id"] in new and envelope["id"] not in seen)
        seen.add(envelope["id"])
    return applied


def _with_places(repo, events):
    """Notification outcomes without a municipality (older notification services) get their trigger's,
    found in this batch or in the log; the log then keeps it, so a rebuild counts them alike. (One
    applied before its trigger stays without; a rebuild places it, see `rebuild`.)"""
    wanted = {event.data["trigger_event_id"] for event in events if domain.lacks_place(event)}
    if not wanted:
        return events
    municipality_of = {event.id: event.data["municipality"] for event in events
                       if event.id in wanted and event.data.get("municipality")}
    municipality_of.update(repo.municipalities_of(wanted - set(municipality_of)))
    return [domain.placed(event, municipality_of) for event in events]


def _logged(row):
    event_id, event_type, source, subject, when, received_at, data = row
    return domain.Event(id=event_id, type=event_type, source=source, subject=subject, time=when,
                        received_at=received_at, data=data)


def rebuild(uow, batch_size=10_000, on_progress=lambda done, total: None):
    """Replace every projection with one folded from the whole log, with the live consumer's rules.

    One transaction holding the log still: readers see the old projections until the commit,
    and live events wait for it instead of slipping in between. The log is read `batch_size`
    events at a time and folded in memory; the projections are then emptied and written in bulk.
    `on_progress(done, total)` is called at the start, after every batch and at the end.
    A notification outcome logged without a municipality counts for its trigger's when the log has
    the trigger by now (it may have arrived after the notification).
    Returns how many events were replayed.
    """
    with uow:
        total = uow.repo.lock_log()
        on_progress(0, total)
        municipality_of = uow.repo.late_trigger_places(list(domain.OUTCOME_OF))
        store, done = MemoryStore(), 0
        for row in uow.repo.log_rows(batch_size):
            domain.apply(store, domain.effects(domain.placed(_logged(row), municipality_of)))
            done += 1
            if done % batch_size == 0:
                on_progress(done, total)
        uow.repo.empty_projections()
        store.save(uow.repo)
        on_progress(done, total)
    return done
