"""Use cases of the notifications service: `use_case(uow, command, ...) -> result`.

Each `with uow:` block is one transaction: the rows it writes and the events it emits
(NotificationSent, NotificationFailed) are committed together, or neither is.

Fan-out (an event or an announcement) only records what is to be delivered. Sending is two
use cases run over and over by dispatch.py: a batch of due rows is claimed, sent through
`Channels` (SMTP, webhook POSTs) and its outcome recorded in the same transaction, so a mail
the server accepted is marked sent exactly when its NotificationSent is stored. A server that
is down leaves the rows pending with a later next attempt (exponential backoff): delivery is
delayed, never lost. A crash between the server's acceptance and the commit sends that batch
again (the Message-ID / X-SmartCity-Delivery header lets a receiver tell); a redelivered *event*
never does, thanks to the inbox and the deliveries' unique key.
"""
import logging
import secrets
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import timedelta
from itertools import groupby

from shared.errors import Gone, InvalidInput, NotFound, Unauthorized, found

from . import domain
from .channels import Mail
from .domain import CANCELLED, FAILED, RETRY, SENT
from .rendering import LINK_PLACEHOLDERS

log = logging.getLogger(__name__)

CONSUMER = "notifications.notify"  # its inbox name: which events were fanned out already
WEBHOOK_BATCH = 50  # deliveries claimed at once; POSTed in parallel across webhooks
EXPORT_LIMIT = 10_000  # a subscriber's export holds everything: no paging
DELIVERY_FILTERS = ("status", "channel", "trigger_event_id", "subscriber_id", "webhook_id")


def _token():
    return secrets.token_urlsafe(32)


def _page(items, total, command, **extra):
    return {"items": items, "total": total, **extra, "page": command.page, "page_size": command.page_size}


def _offset(command):
    return (command.page - 1) * command.page_size


# --- fan-out --------------------------------------------------------------------------------

def _fan_out(uow, digest_hour, trigger_id, trigger_type, occurred_at, content, people):
    """Record a trigger and one delivery per recipient and channel; feed items are delivered at once.

    `people`: the token subjects the trigger concerns by name (domain.AUDIENCE's author, sponsors, …).
    """
    now, repo = uow.now(), uow.repo
    repo.add_trigger(trigger_id, trigger_type, occurred_at, content)
    topics = domain.topics_for(trigger_type, content)
    repo.add_webhook_deliveries(trigger_id, trigger_type, content.get("municipality"), now)
    if not domain.tells_people(trigger_type, content):
        return  # webhooks asked for every event; people get one mail per board decision
    due = {mode: now if domain.urgent(trigger_type) else domain.digest_due(mode, now, digest_hour)
           for mode in domain.DIGESTS}
    people = sorted(people)
    repo.add_email_deliveries(trigger_id, topics, people, due, now)
    for item_id in repo.add_feed_items(trigger_id, topics, people, now):
        uow.emit("NotificationSent", {"notification_id": item_id, "channel": "feed", "trigger_event_id": trigger_id,
                                      "trigger_type": trigger_type, "municipality": content.get("municipality"),
                                      "sent_at": now})


def _learn(repo, event_type, data):
    """Keep what later events will need: ideas and their authors, sponsors, comments, meetings, names."""
    if data.get("field_of_action") and data.get("idea_id"):
        repo.remember_idea({"idea_id": data["idea_id"], "municipality": data["municipality"],
                            "field_of_action": data["field_of_action"], "title": data.get("title"),
                            "author_id": data.get("author_id")})
    learn = _LEARN.get(event_type)
    if learn:
        learn(repo, data)


def _remember_meeting(repo, data):
    repo.remember_meeting({"id": data["meeting_id"], "municipality": data["municipality"],
                           "working_group_id": data["working_group_id"], "starts_at": data["starts_at"],
                           "content": domain.shown("MeetingScheduled", data)})


# Event type -> what this service keeps of it (besides the idea, kept from every event about one).
_LEARN = {
    "WorkingGroupCreated": lambda repo, d: repo.remember_name("working_group", d["working_group_id"],
                                                              d["municipality"], d["group_name"]),
    "CompetitionOpened": lambda repo, d: repo.remember_name("competition", d["competition_id"], d["municipality"],
                                                            d["theme"]),
    "SubConceptDrafted": lambda repo, d: repo.remember_name("sub_concept", d["sub_concept_id"], d["municipality"],
                                                            d["title"]),
    "StrategyDraftPublished": lambda repo, d: repo.remember_name("strategy", d["strategy_id"], d["municipality"],
                                                                 d["title"]),
    "SponsorAccepted": lambda repo, d: repo.add_sponsor(d["sponsorship_id"], d["idea_id"], d["sponsor_id"]),
    "CommentPosted": lambda repo, d: repo.remember_comment(d["comment_id"], d["author_id"], d["parent_id"]),
    "MeetingScheduled": _remember_meeting,
    "MeetingCancelled": lambda repo, d: repo.cancel_meeting(d["meeting_id"], d["cancelled_at"]),
    "MeetingRegistered": lambda repo, d: repo.add_registration(d["meeting_id"], d["attendee_id"], d["registered_at"]),
    "MeetingRegistrationWithdrawn": lambda repo, d: repo.remove_registration(d["meeting_id"], d["attendee_id"]),
}

# Content key holding an id -> (kind of known name, the key its name is shown under).
_NAMED_IDS = {"working_group_id": ("working_group", "working_group_name"),
              "competition_id": ("competition", "competition_theme"),
              "sub_concept_id": ("sub_concept", "sub_concept_title"),
              "strategy_id": ("strategy", "strategy_title")}
MEETING_DETAILS = ("kind", "title", "starts_at", "ends_at", "place", "online_url")  # what a registration's mail shows


def _with_names(repo, content):
    """The content with the names of what it names only by id: groups, competitions, a comment's target, a meeting."""
    for key, (kind, shown_as) in _NAMED_IDS.items():
        if content.get(key) and not content.get(shown_as):
            name = repo.known_name(kind, content[key])
            if name is not None:
                content[shown_as] = name
    target = content.get("target_kind")
    if target:
        known = repo.known_idea(content["target_id"]) if target == "idea" else None
        name = known["title"] if known else repo.known_name(target, content["target_id"])
        if name is not None:
            content["target_title"] = name
    if content.get("meeting_id") and not content.get("title"):
        meeting = repo.meeting(content["meeting_id"])
        if meeting is not None:
            content.update({key: meeting["content"].get(key) for key in MEETING_DETAILS})
    return content


def _content_and_author(repo, trigger_type, data):
    """What notifications show of an event (domain.shown, with names for ids) and the author it
    reaches (the event's own, else the known idea's)."""
    known = repo.known_idea(data["idea_id"]) if data.get("idea_id") else None
    content = domain.shown(trigger_type, data)
    if known is not None:
        content["idea_title"] = known["title"]
        content.setdefault("field_of_action", known["field_of_action"])
    return _with_names(repo, content), data.get("author_id") or (known and known["author_id"])


def _people(repo, trigger_type, data, content, author_id):
    """The token subjects a trigger reaches by name: domain.AUDIENCE's people, found from what was kept."""
    people = domain.named_people(trigger_type, data)
    if domain.reaches(trigger_type, domain.AUTHOR) and author_id:
        people.add(author_id)
    if domain.reaches(trigger_type, domain.SPONSORS) and content.get("idea_id"):
        people.update(repo.sponsors_of(content["idea_id"]))
    if domain.reaches(trigger_type, domain.REGISTRANTS) and content.get("meeting_id"):
        people.update(repo.registrants_of(content["meeting_id"]))
    return people


def _reply(uow, digest_hour, command, content):
    """A comment event that makes a reply visible tells the author of the comment it answers, once."""
    repo = uow.repo
    comment = repo.comment(command.data["comment_id"])
    if not domain.reply_became_visible(command.event_type, command.data, comment):
        return
    parent = repo.comment(comment["parent_id"])
    if parent and domain.reply_reaches(parent["author_id"], comment["author_id"]):
        _fan_out(uow, digest_hour, f"reply:{comment['id']}", domain.COMMENT_REPLY, command.occurred_at,
                 {**content, "parent_id": str(comment["parent_id"])}, {parent["author_id"]})


def notify(uow, command, digest_hour):
    """An event from ideas or voting: keep what later events need, then fan out to everyone it
    concerns, once per event id.

    Returns False (and does nothing) for a redelivered event.
    """
    with uow:
        if not uow.claim(CONSUMER, command.event_id, command.event_type):
            return False
        repo, data = uow.repo, command.data
        _learn(repo, command.event_type, data)
        content, author_id = _content_and_author(repo, command.event_type, data)
        people = _people(repo, command.event_type, data, content, author_id)
        _fan_out(uow, digest_hour, command.event_id, command.event_type, command.occurred_at, content, people)
        if command.event_type in ("CommentPosted", "CommentPublished"):
            _reply(uow, digest_hour, command, content)
    return True


def remind_meetings(uow, lead_hours, digest_hour):
    """Remind each registrant of a meeting `lead_hours` before it starts, once.

    A registration is marked reminded in the same transaction as the fan-out, so a second sweep,
    another replica or a restart never reminds twice; a cancelled meeting is never reminded, and
    whoever registers within the lead time has the time in their confirmation. One trigger per
    meeting (its unique key): registrants reminded in a later sweep join it. Returns how many
    registrants were reminded.
    """
    with uow:
        now, repo = uow.now(), uow.repo
        due = repo.claim_reminders(now, timedelta(hours=lead_hours))
        contents, attendees = {}, defaultdict(set)
        for row in due:
            contents[row["id"]] = row["content"]
            attendees[row["id"]].add(row["attendee_id"])
        for meeting_id, content in contents.items():
            _fan_out(uow, digest_hour, f"reminder:{meeting_id}", domain.MEETING_REMINDER, now,
                     _with_names(repo, content), attendees[meeting_id])
    return len(due)


# --- subscribers ----------------------------------------------------------------------------

def _refuse_unknown(problems):
    if problems:
        raise InvalidInput("names something that does not exist", problems)


def subscribe(uow, command, known):
    """Start the double opt-in: a confirmation mail with a one-time link; nothing else is sent before.

    The answer is the same for every address, new, pending, unsubscribed or confirmed, with or
    without a bearer token, so it tells nobody who subscribed. A confirmed address stays as it is
    (changes go through its own links). The caller's account is linked to the address only when
    the address's owner confirms (see `confirm`): nobody takes over another's address by asking.
    The link's token is made when the mail is composed (`send_mail_batch`): only its hash is stored.
    Subscriptions to unknown municipalities, fields or ideas (`known`: domain.Known) are refused first.
    """
    _refuse_unknown(known.subscription_problems(command.subscriptions))
    topics = sorted({domain.topic(**subscription) for subscription in command.subscriptions})
    with uow:
        now, repo = uow.now(), uow.repo
        existing = repo.subscriber_by_email(command.email, for_update=True)
        if existing is not None and existing["confirmed_at"] and not existing["unsubscribed_at"]:
            return
        if existing is None:
            subscriber_id = uuid.uuid4()
            repo.add_subscriber({
                "id": subscriber_id, "email": command.email, "language": command.language,
                "digest": command.digest, "subject": None, "pending_subject": command.subject, "created_at": now,
                "confirmed_at": None, "unsubscribed_at": None})
        else:
            subscriber_id = existing["id"]
            repo.restart_opt_in(subscriber_id, command.language, command.digest, command.subject)
        repo.replace_subscriptions(subscriber_id, topics)
        trigger_id = f"confirm:{uuid.uuid4()}"
        repo.add_trigger(trigger_id, domain.CONFIRMATION, now, {})
        repo.add_confirmation_delivery(trigger_id, subscriber_id, now)


def _new_link(subscriber_id, purpose, now, lifetime, pending):
    """A fresh link token for a subscriber: the token to put in a link; its hash joins `pending`."""
    token = _token()
    pending.append((domain.token_hash(token), subscriber_id, purpose, now, now + lifetime))
    return token


def _manage_lifetime(settings):
    return timedelta(days=settings.manage_link_days)


def _confirm_link(repo, token, now, for_update=False):
    """(link row, subscriber) of a confirmation token; NotFound for an unknown one."""
    row = found(repo.link_token(domain.token_hash(token), domain.CONFIRM_LINK, for_update),
                "confirmation link (unknown, or replaced by a newer one)")
    return row, repo.subscriber_by_id(row["subscriber_id"], for_update)


def confirmation_state(uow, command):
    """What the confirmation page shows before anything is pressed: pending, or confirmed already.

    Changes nothing (a mail scanner's prefetch of the link does no harm); Gone for an expired link.
    """
    with uow:
        row, subscriber = _confirm_link(uow.repo, command.token, uow.now())
        if row["used_at"] or subscriber["confirmed_at"]:
            return {"status": "already_confirmed", "confirmed_at": subscriber["confirmed_at"]}
        if domain.link_expired(row, uow.now()):
            raise Gone("the confirmation link has expired; subscribe again", {"token": ["expired"]})
        return {"status": "pending", "confirmed_at": None, "email": subscriber["email"]}


def confirm(uow, command, settings):
    """The button behind the confirmation link: records the consent and its time, once, and links
    the address to the account that asked for it, if any (domain.account_to_link).

    Pressed again, it answers `already_confirmed` and changes nothing. The answer carries a fresh
    "my data" token, so the page can link there at once.
    """
    with uow:
        now, repo = uow.now(), uow.repo
        row, subscriber = _confirm_link(repo, command.token, now, for_update=True)
        if row["used_at"] or subscriber["confirmed_at"]:
            status = "already_confirmed"
        elif domain.link_expired(row, now):
            raise Gone("the confirmation link has expired; subscribe again", {"token": ["expired"]})
        else:
            asked = subscriber["pending_subject"]
            linked_elsewhere = asked is not None and repo.subscriber_by_subject(asked) is not None
            status = "confirmed"
            subscriber = repo.confirm(subscriber["id"], now, domain.account_to_link(subscriber, linked_elsewhere))
            repo.use_link_token(domain.token_hash(command.token), now)
        pending = []
        manage_token = _new_link(subscriber["id"], domain.MANAGE_LINK, now, _manage_lifetime(settings), pending)
        repo.add_link_tokens(pending)
    return {"status": status, "confirmed_at": subscriber["confirmed_at"], "manage_token": manage_token,
            "language": subscriber["language"]}


def _subscriber(repo, token, subject, now, for_update=False):
    """The subscriber named by a mail link's token, else by the signed-in subject.

    An expired link is Gone: each new mail brings a fresh one.
    """
    if token:
        row = repo.link_token(domain.token_hash(token), domain.MANAGE_LINK)
        if row is None:
            raise NotFound("subscriber")
        if domain.link_expired(row, now):
            raise Gone("this link has expired; every new mail brings a fresh one", {"token": ["expired"]})
        subscriber = repo.subscriber_by_id(row["subscriber_id"], for_update)
    elif subject is not None:
        subscriber = repo.subscriber_by_subject(subject, for_update)
    else:
        raise Unauthorized("send the token of a mail link (?token=…) or a bearer token",
                           {"token": ["required without a bearer token"]})
    if subscriber is None:
        raise NotFound("subscriber")
    return subscriber


def _profile(repo, subscriber):
    """A subscriber with their subscriptions in the API's form."""
    return {**subscriber, "subscriptions": [domain.subscription_of(t) for t in repo.topics_of(subscriber["id"])]}


def unsubscribe(uow, command):
    """One click from any mail: no more mail from now on, pending ones included."""
    with uow:
        subscriber = _subscriber(uow.repo, command.token, None, uow.now(), for_update=True)
        uow.repo.unsubscribe(subscriber["id"], uow.now())
    return {"status": "unsubscribed"}


def show_subscriber(uow, command):
    """What the "my data" page shows: the subscriber, their subscriptions, the titles of their ideas
    and the working groups of each municipality (whose meetings one may follow)."""
    with uow:
        repo = uow.repo
        profile = _profile(repo, _subscriber(repo, command.token, command.subject, uow.now()))
        ideas = [s["idea_id"] for s in profile["subscriptions"] if s["kind"] == domain.IDEA]
        profile["idea_titles"] = repo.idea_titles(ideas) if ideas else {}
        profile["working_groups"] = {municipality: repo.known_names("working_group", municipality)
                                     for municipality in command.municipalities}
        return profile


def working_group_known(uow, municipality, group_id):
    """Whether this service has seen the working group created in that municipality."""
    with uow:
        return str(group_id) in uow.repo.known_names("working_group", municipality)


def export_subscriber(uow, command):
    """Everything stored about a subscriber (their data, as the GDPR asks), without secrets."""
    with uow:
        repo = uow.repo
        subscriber = _subscriber(repo, command.token, command.subject, uow.now())
        deliveries, _ = repo.deliveries({"subscriber_id": subscriber["id"]}, EXPORT_LIMIT, 0)
        feed = repo.feed(subscriber["subject"], False, EXPORT_LIMIT, 0)[0] if subscriber["subject"] else []
        return {"subscriber": _profile(repo, subscriber), "deliveries": deliveries, "feed": feed}


def change_subscriber(uow, command, known):
    """Language, digest or subscriptions (replaced as a whole; only ones `known` knows what they name);
    returns the subscriber as changed."""
    if command.subscriptions is not None:
        _refuse_unknown(known.subscription_problems(command.subscriptions))
    preferences = {name: getattr(command, name) for name in ("language", "digest") if getattr(command, name)}
    with uow:
        repo = uow.repo
        subscriber = _subscriber(repo, command.token, command.subject, uow.now(), for_update=True)
        repo.set_preferences(subscriber["id"], preferences)
        if command.subscriptions is not None:
            repo.replace_subscriptions(subscriber["id"],
                                       sorted({domain.topic(**s) for s in command.subscriptions}))
        return _profile(repo, repo.subscriber_by_id(subscriber["id"]))


def erase_subscriber(uow, command):
    """Delete the subscriber, their subscriptions, delivery log, link tokens and feed."""
    with uow:
        subscriber = _subscriber(uow.repo, command.token, command.subject, uow.now(), for_update=True)
        uow.repo.delete_subscriber(subscriber["id"])
        if subscriber["subject"]:
            uow.repo.delete_feed(subscriber["subject"])


def forget_expired_links(uow, keep_days=30):
    """Delete link tokens expired more than `keep_days` ago (until then an old link still says "expired")."""
    with uow:
        return uow.repo.forget_link_tokens(uow.now() - timedelta(days=keep_days))


# --- announcements --------------------------------------------------------------------------

def post_announcement(uow, command, digest_hour, known):
    """Staff announce something to come in a municipality `known` knows; its subscribers hear of it."""
    _refuse_unknown(known.municipality_problems(command.municipality))
    with uow:
        now = uow.now()
        _refuse_unknown(domain.announcement_problems(command.starts_at, now))
        announcement = {"id": uuid.uuid4(), "created_at": now, **asdict(command)}
        content = {"announcement_id": str(announcement["id"]), "municipality": command.municipality,
                   "title": command.title, "starts_at": command.starts_at.isoformat(), "place": command.place,
                   "link": command.link, "description": command.description}
        uow.repo.add_announcement(announcement)
        _fan_out(uow, digest_hour, str(announcement["id"]), domain.ANNOUNCEMENT, now, content, set())
    return announcement


def list_announcements(uow, command):
    with uow:
        items, total = uow.repo.announcements(command.municipality, command.page_size, _offset(command))
    return _page(items, total, command)


# --- the in-app feed ------------------------------------------------------------------------

def show_feed(uow, command):
    with uow:
        items, total, unread = uow.repo.feed(command.subject, command.unread_only, command.page_size,
                                             _offset(command))
    return _page(items, total, command, unread=unread)


def mark_read(uow, command):
    """Only the subject's own item: another's is NotFound, as if it did not exist."""
    with uow:
        if not uow.repo.mark_read(command.subject, command.item_id, uow.now()):
            raise NotFound("notification")


def mark_all_read(uow, command):
    with uow:
        return {"marked": uow.repo.mark_all_read(command.subject, uow.now())}


# --- webhooks -------------------------------------------------------------------------------

def register_webhook(uow, command, destination_problem):
    """A webhook with a new signing secret, which the answer shows this once.

    `destination_problem(url)` says why its destination may not be reached (webhook.py: checked
    after DNS resolution), or None; a refusal is InvalidInput naming the url.
    """
    problem = destination_problem(command.url)
    if problem:
        raise InvalidInput("the webhook's destination is not allowed", {"url": [problem]})
    with uow:
        webhook = {**asdict(command), "event_types": list(command.event_types), "id": uuid.uuid4(),
                   "secret": _token(), "created_at": uow.now(), "consecutive_failures": 0, "disabled_at": None}
        uow.repo.add_webhook(webhook)
    return webhook


def list_webhooks(uow):
    with uow:
        return uow.repo.webhooks()


def enable_webhook(uow, command):
    """Back on after it was disabled; deliveries failed while it was off are not resent."""
    with uow:
        return found(uow.repo.enable_webhook(command.webhook_id), "webhook")


def delete_webhook(uow, command):
    with uow:
        if not uow.repo.delete_webhook(command.webhook_id):
            raise NotFound("webhook")


# --- the delivery log -----------------------------------------------------------------------

def list_deliveries(uow, command):
    filters = {name: getattr(command, name) for name in DELIVERY_FILTERS}
    with uow:
        items, total = uow.repo.deliveries(filters, command.page_size, _offset(command))
    return _page(items, total, command)


# --- sending: what fan-out recorded, through Channels ----------------------------------------

def _record(uow, settings, outcomes, now):
    """Write each delivery's outcome and its event: [(row, outcome, error)].

    Returns how many deliveries ended how: {(channel, outcome): count}.
    """
    by_outcome, counts = defaultdict(list), Counter()
    for row, outcome, error in outcomes:
        if outcome == RETRY and row["channel"] == "email" and row["attempts"] + 1 >= settings.email_max_attempts:
            outcome, error = FAILED, f"gave up after {row['attempts'] + 1} attempts: {error}"
        by_outcome[outcome].append((row, error))
        counts[row["channel"], outcome] += 1
    repo = uow.repo
    sent = [row for row, _ in by_outcome[SENT]]
    if sent:
        repo.mark_sent([row["id"] for row in sent], now)
        for row in sent:
            uow.emit("NotificationSent", {**_outcome(row), "sent_at": now})
    for row, error in by_outcome[FAILED]:
        error = domain.public_error(error)
        repo.mark_failed([row["id"]], error, now)
        _failed(uow, {**row, "attempts": row["attempts"] + 1}, error, now)
    if by_outcome[RETRY]:
        repo.reschedule([(row["id"], now + timedelta(seconds=domain.backoff_seconds(
            row["attempts"] + 1, settings.retry_base_seconds, settings.retry_max_seconds)), domain.public_error(error))
            for row, error in by_outcome[RETRY]])
    if by_outcome[CANCELLED]:
        repo.mark_cancelled([row["id"] for row, _ in by_outcome[CANCELLED]])
    return counts


def _outcome(row):
    return {"notification_id": row["id"], "channel": row["channel"], "trigger_event_id": row["trigger_event_id"],
            "trigger_type": row["trigger_type"], "municipality": row["municipality"]}


def _failed(uow, row, error, now):
    uow.emit("NotificationFailed", {**_outcome(row), "error": error, "attempts": max(1, row["attempts"]),
                                    "failed_at": now})


# --- mail -------------------------------------------------------------------------------------

def send_mail_batch(uow, channels, names):
    """Claim, compose, send and record one batch of due mails, in one transaction.

    Each mail gets fresh link tokens, stored as hashes in the same transaction. `names` is the
    shared.places.PlaceNames that mails show instead of slugs. Returns {(channel, outcome): count};
    empty when nothing was due.
    """
    settings = channels.settings
    with uow:
        now = uow.now()
        rows = uow.repo.claim_due_email(settings.email_batch, now)
        if not rows:
            return Counter()
        tokens = []
        mails, outcomes = _compose_all(channels, names, rows, _Links(channels, now, tokens))
        uow.repo.add_link_tokens(tokens)
        results = channels.send_mails([mail for _, mail in mails])
        outcomes += [(row, outcome, error) for (group, _), (outcome, error) in zip(mails, results) for row in group]
        return _record(uow, settings, outcomes, now)


class _Links:
    """Makes a subscriber's links for the mails of one batch, and collects the hashes to store."""

    def __init__(self, channels, now, pending):
        self.channels, self.now, self.pending = channels, now, pending

    def __call__(self, subscriber, with_confirmation=False):
        settings, subscriber_id = self.channels.settings, subscriber["subscriber_id"]
        manage = _new_link(subscriber_id, domain.MANAGE_LINK, self.now, _manage_lifetime(settings),
                           self.pending)
        confirm = _new_link(subscriber_id, domain.CONFIRM_LINK, self.now,
                            timedelta(hours=settings.confirm_hours), self.pending) if with_confirmation else None
        return self.channels.links(subscriber["language"], manage, confirm)


def _compose_all(channels, names, rows, make_links):
    """([(rows, Mail)], [(row, outcome, error)]): one mail per row, or one digest per subscriber.

    Rows that are no longer to be sent are cancelled; a mail that cannot be rendered fails alone.
    """
    mails, outcomes, rendered_once = [], [], {}
    for _, group in groupby(rows, key=lambda row: row["subscriber_id"]):
        group = list(group)
        try:
            rendered, cancelled = _mails_for(channels, names, group, rendered_once, make_links)
        except Exception as exc:
            log.exception("could not compose mail for deliveries %s", [str(row["id"]) for row in group])
            outcomes += [(row, FAILED, f"compose: {type(exc).__name__}") for row in group]
            continue
        outcomes += [(row, CANCELLED, None) for row in cancelled]
        subscriber = group[0]
        mails += [(rows_of_mail, Mail(subscriber["email"], text, links, rows_of_mail[0]["id"]))
                  for rows_of_mail, text, links in rendered]
    return mails, outcomes


def _mails_for(channels, names, group, rendered_once, make_links):
    """One subscriber's due rows -> ([(rows, Rendered, links)], cancelled rows)."""
    subscriber = group[0]
    if subscriber["unsubscribed_at"]:
        return [], group
    language = subscriber["language"]
    confirmations = [row for row in group if row["trigger_type"] == domain.CONFIRMATION]
    notices = [row for row in group if row["trigger_type"] != domain.CONFIRMATION]
    mails, cancelled = [], []
    if confirmations and not subscriber["confirmed_at"]:
        links = make_links(subscriber, with_confirmation=True)
        mails.append((confirmations, channels.renderer.confirmation(language, links), links))
    else:
        cancelled += confirmations  # confirmed meanwhile
    if notices and not subscriber["confirmed_at"]:
        return mails, cancelled + notices
    # a digest subscriber gets urgent notices (a reminder, a cancellation) on their own, as they are due
    single = [row for row in notices if subscriber["digest"] == "immediate" or domain.urgent(row["trigger_type"])]
    grouped = [row for row in notices if row not in single]
    for row in single:
        links = make_links(subscriber)
        mails.append(([row], _notification(channels, names, rendered_once, language, row).with_links(links), links))
    if grouped:
        links = make_links(subscriber)
        mails.append((grouped, channels.renderer.digest(language, subscriber["digest"],
                                                        [_item(channels, names, language, row) for row in grouped],
                                                        links), links))
    return mails, cancelled


def _notification(channels, names, rendered_once, language, row):
    """The same notification for every subscriber of a language: rendered once per batch."""
    key = (row["trigger_event_id"], language)
    if key not in rendered_once:
        rendered_once[key] = channels.renderer.notification(language, _item(channels, names, language, row),
                                                            LINK_PLACEHOLDERS)
    return rendered_once[key]


def _item(channels, names, language, row):
    """A trigger as the mail templates show it: names instead of slugs, and the idea's page."""
    content, kind = row["content"], row["trigger_type"]
    item = {**content, "type": kind}
    if content.get("municipality"):
        item["municipality_name"] = names.municipality(content["municipality"], language)
        if content.get("field_of_action"):
            item["field_name"] = names.field(content["municipality"], content["field_of_action"], language)
    idea_id = domain.idea_page_of(kind, content)
    if idea_id:
        item["idea_url"] = channels.idea_page(idea_id, language)
    return item


# --- webhooks ---------------------------------------------------------------------------------

def send_webhook_batch(uow, channels):
    """Claim due webhook deliveries and POST them, in order per webhook, webhooks in parallel.

    A webhook's first failure in a batch postpones its remaining deliveries (one failure counted,
    not one per queued delivery); after webhook_max_failures consecutive failures it is disabled
    and its pending deliveries fail (NotificationFailed). Returns {(channel, outcome): count}.
    """
    settings = channels.settings
    with uow:
        now, repo = uow.now(), uow.repo
        rows = repo.claim_due_webhooks(WEBHOOK_BATCH, now)
        if not rows:
            return Counter()
        by_webhook = defaultdict(list)
        for row in rows:
            by_webhook[row["webhook_id"]].append(row)
        counts = Counter()
        posted = channels.post_webhooks(list(by_webhook.values()))
        for (webhook_id, group), results in zip(by_webhook.items(), posted):
            outcomes = _webhook_outcomes(group, results)
            counts += _record(uow, settings, outcomes, now)
            failures = [error for _, outcome, error in outcomes if outcome == RETRY]
            if not failures:
                repo.webhook_succeeded(webhook_id)
            elif repo.webhook_failed(webhook_id) >= settings.webhook_max_failures:
                error = domain.public_error(f"webhook disabled after {settings.webhook_max_failures} failures:"
                                            f" {failures[0]}")
                for failed in repo.disable_webhook(webhook_id, error, now):
                    _failed(uow, failed, error, now)
        return counts


def _webhook_outcomes(group, results):
    """[(row, outcome, error)] of one webhook's POSTs in order; those after a failure were not tried."""
    outcomes = [(row, SENT if error is None else RETRY, error) for row, error in zip(group, results)]
    if results and results[-1] is not None:
        outcomes += [(later, RETRY, f"not tried: {results[-1]}") for later in group[len(results):]]
    return outcomes
