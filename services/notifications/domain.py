"""The notifications domain: who hears of what, when digests go out, retry timing. Pure: no I/O."""
import hashlib
import hmac
import ipaddress
import re
from datetime import timedelta
from urllib.parse import urlsplit

from shared.domain import MUNICIPAL_TZ

LANGUAGES = ("de", "en")
DIGESTS = ("immediate", "daily", "weekly")

# What one can subscribe to. A subscription is stored as a topic string, e.g. "field:gera/energie".
IDEA, FIELD, MILESTONES, PILOT_DECISIONS, ANNOUNCEMENTS, STRATEGY, MEETINGS = (
    "idea", "field", "milestones", "pilot_decisions", "announcements", "strategy", "meetings")
KINDS = (IDEA, FIELD, MILESTONES, PILOT_DECISIONS, ANNOUNCEMENTS, STRATEGY, MEETINGS)
MUNICIPAL_KINDS = (MILESTONES, PILOT_DECISIONS, ANNOUNCEMENTS, STRATEGY, MEETINGS)  # topic "<kind>:<municipality>"

# People an event concerns, not by subscription but because they are in it (a signed-in subscriber
# whose token subject matches hears of it; the feed shows it to them even without an address):
AUTHOR = "author"  # the author_id of the event (an idea's, a comment's), else the known idea's author
SPONSOR = "sponsor"  # the sponsor_id of the event: the sponsor who was accepted
ATTENDEE = "attendee"  # the attendee_id of the event: who (de)registered for a meeting
SPONSORS = "sponsors"  # every accepted sponsor of the event's idea: they follow its progress
REGISTRANTS = "registrants"  # everyone registered for the event's meeting
REPLIED_TO = "replied_to"  # the author of the comment a reply answers, once the reply is visible
NAMED = {SPONSOR: "sponsor_id", ATTENDEE: "attendee_id"}  # audience -> the event field naming the person
SUBJECT_FIELDS = ("author_id", "sponsor_id", "attendee_id", "member_id")  # kept out of what notifications show

ANNOUNCEMENT = "Announcement"  # staff-posted, not an event on the bus (like the two triggers of this service below)
CONFIRMATION = "SubscriptionConfirmation"  # the double opt-in mail
MEETING_REMINDER = "MeetingReminder"  # a day (configurable) before a meeting, from this service's timer
COMMENT_REPLY = "CommentReply"  # a reply became visible (posted so, or published later): once per reply

# Trigger type -> who hears of it. An empty audience: nobody is mailed (webhooks that asked still get
# it), but the event is consumed, so what it tells this service (a name, a registration) is kept.
AUDIENCE = {
    "IdeaSubmitted": (AUTHOR,),  # the confirmation of receipt; not public before moderation
    "IdeaPublished": (AUTHOR, IDEA, FIELD),
    "IdeaRejected": (AUTHOR,),  # the reason is for the author only
    "IdeaStatusChanged": (AUTHOR, IDEA, FIELD, SPONSORS),
    "SupportThresholdReached": (AUTHOR, IDEA, FIELD),
    "PilotApproved": (AUTHOR, IDEA, FIELD, PILOT_DECISIONS, SPONSORS),
    "PilotRejected": (AUTHOR, IDEA, FIELD, PILOT_DECISIONS, SPONSORS),
    "MilestoneReached": (IDEA, MILESTONES, SPONSORS),
    "MilestoneOverdue": (IDEA, MILESTONES, SPONSORS),
    ANNOUNCEMENT: (ANNOUNCEMENTS,),
    # the strategy process (issue 14)
    "WorkingGroupCreated": (),  # its name is kept for meeting mails
    "WorkingGroupMemberAdded": (),
    "WorkingGroupMemberRemoved": (),
    "CompetitionOpened": (FIELD, ANNOUNCEMENTS),
    "CompetitionClosed": (FIELD, ANNOUNCEMENTS),
    "CompetitionEntryShortlisted": (AUTHOR,),  # the entry may not be public yet
    "SponsorOffered": (),  # staff decide; the sponsor hears when accepted
    "SponsorAccepted": (SPONSOR, IDEA),
    "SubConceptDrafted": (STRATEGY,),
    "IdeaIntegrated": (AUTHOR, IDEA, SPONSORS),
    "SubConceptSubmitted": (STRATEGY,),
    "StrategyDraftPublished": (STRATEGY, ANNOUNCEMENTS),
    "StrategyFeedbackClosed": (STRATEGY,),
    "StrategyAdopted": (STRATEGY, ANNOUNCEMENTS),
    "StrategyReturned": (STRATEGY, ANNOUNCEMENTS),
    "CommentPosted": (),  # a visible reply is a CommentReply
    "CommentPublished": (AUTHOR,),  # the author of a pre-moderated comment hears it is visible
    COMMENT_REPLY: (REPLIED_TO,),
    "CommentHidden": (AUTHOR,),  # the reason is for the comment's author only
    "CommentReported": (),  # moderators see reports in the ideas service
    "MeetingScheduled": (MEETINGS, ANNOUNCEMENTS),
    "MeetingCancelled": (MEETINGS, ANNOUNCEMENTS, REGISTRANTS),
    "MeetingRegistered": (ATTENDEE,),
    "MeetingRegistrationWithdrawn": (ATTENDEE,),
    MEETING_REMINDER: (REGISTRANTS,),
    "SurveyResultsImported": (ANNOUNCEMENTS,),
}
TRIGGER_TYPES = tuple(AUDIENCE)
EVENT_TYPES = tuple(t for t in TRIGGER_TYPES if t not in (ANNOUNCEMENT, MEETING_REMINDER, COMMENT_REPLY))  # from the bus

# What became of one attempt to deliver: the delivery's new status, or RETRY (still pending, later).
SENT, FAILED, RETRY, CANCELLED = "sent", "failed", "retry", "cancelled"


def topic(kind, municipality=None, idea_id=None, field_of_action=None, working_group_id=None):
    """The stored form of a subscription; `meetings` of one working group: "meetings:gera/<group id>"."""
    if kind == IDEA:
        return f"idea:{idea_id}"
    if kind == FIELD:
        return f"field:{municipality}/{field_of_action}"
    if kind == MEETINGS and working_group_id:
        return f"meetings:{municipality}/{working_group_id}"
    return f"{kind}:{municipality}"


def subscription_of(stored_topic):
    """The API form of a stored topic (inverse of `topic`)."""
    kind, _, scope = stored_topic.partition(":")
    if kind == IDEA:
        return {"kind": kind, "idea_id": scope}
    if kind == FIELD:
        municipality, _, field = scope.partition("/")
        return {"kind": kind, "municipality": municipality, "field_of_action": field}
    if kind == MEETINGS and "/" in scope:
        municipality, _, group = scope.partition("/")
        return {"kind": kind, "municipality": municipality, "working_group_id": group}
    return {"kind": kind, "municipality": scope}


def topics_for(trigger_type, content):
    """The subscription topics a trigger reaches (the author is handled apart)."""
    audience = AUDIENCE[trigger_type]
    municipality, idea_id = content.get("municipality"), content.get("idea_id")
    found = []
    if IDEA in audience and idea_id:
        found.append(topic(IDEA, idea_id=idea_id))
    if FIELD in audience and content.get("field_of_action"):
        found.append(topic(FIELD, municipality, field_of_action=content["field_of_action"]))
    for kind in MUNICIPAL_KINDS:
        if kind in audience and municipality:
            found.append(topic(kind, municipality))
    if MEETINGS in audience and municipality and content.get("working_group_id"):
        found.append(topic(MEETINGS, municipality, working_group_id=content["working_group_id"]))
    return found


def reaches(trigger_type, audience):
    return audience in AUDIENCE[trigger_type]


def named_people(trigger_type, data):
    """The people an event names in a field and reaches as such (the sponsor accepted, the attendee)."""
    return {data[field] for audience, field in NAMED.items() if reaches(trigger_type, audience) and data.get(field)}


def reply_became_visible(trigger_type, data, comment):
    """Whether this comment event makes a reply visible: posted visible, or published after review.

    `comment` is the comment as CommentPosted named it ({author_id, parent_id}), or None.
    """
    if comment is None or comment["parent_id"] is None:
        return False
    return trigger_type == "CommentPublished" or (trigger_type == "CommentPosted" and data["visible"])


def reply_reaches(parent_author, reply_author):
    """A reply reaches the parent comment's author, unless they answered themselves."""
    return parent_author is not None and parent_author != reply_author


def shown(trigger_type, data):
    """What notifications show of an event (mails, feed, webhooks): its data without people's subjects.

    A survey's result rows (up to thousands) stay in reporting; its notice says how many questions.
    """
    content = {key: value for key, value in data.items() if key not in SUBJECT_FIELDS}
    if trigger_type == "SurveyResultsImported":
        content["questions"] = len({row["question"] for row in content.pop("rows")})
    return content


# Triggers whose mails go out at once whatever a subscriber's digest: a digest would come too late.
URGENT = (MEETING_REMINDER, "MeetingCancelled")


def urgent(trigger_type):
    return trigger_type in URGENT


def tells_people(trigger_type, content):
    """False for the ideas service's status change that follows a board decision: the decision's own
    mail already says it (one mail per board decision). Webhooks still get every event they asked for."""
    return not (trigger_type == "IdeaStatusChanged" and content.get("cause") == "board")


# Triggers about an idea that may not be public: their mails do not link to the idea's page.
NOT_PUBLIC_YET = ("IdeaSubmitted", "IdeaRejected", "CompetitionEntryShortlisted")


def idea_page_of(trigger_type, content):
    """The id of the public idea whose page a mail links to (a comment's idea too), or None."""
    if trigger_type in NOT_PUBLIC_YET:
        return None
    if content.get("idea_id"):
        return content["idea_id"]
    return content.get("target_id") if content.get("target_kind") == "idea" else None


# --- what subscriptions and announcements may name -----------------------------------------

class Known:
    """The municipalities, fields of action and public ideas that exist, as the ideas service says,
    and the working groups this service has seen created.

    `places` is a shared.places.PlaceNames; `idea_public(idea_id)` answers whether an idea exists
    and is public, `group_known(municipality, group_id)` whether that municipality has the working
    group (each asked only for what a subscription names). A subscription or announcement naming
    anything else is refused, so nobody waits for news of "atlantis".
    """

    def __init__(self, places, idea_public, group_known):
        self.places, self.idea_public, self.group_known = places, idea_public, group_known

    def municipality_problems(self, municipality):
        """{"municipality": [why]} for an unknown municipality, else {}."""
        if self.places.knows(municipality):
            return {}
        return {"municipality": [f"unknown municipality {municipality!r}"]}

    def subscription_problems(self, subscriptions):
        """{"subscriptions": {index: {field: [why]}}} for the subscriptions naming something unknown, else {}."""
        problems = {}
        for index, subscription in enumerate(subscriptions):
            found = self._problem(subscription)
            if found:
                problems[index] = found
        return {"subscriptions": problems} if problems else {}

    def _problem(self, subscription):
        if subscription["kind"] == IDEA:
            return {} if self.idea_public(subscription["idea_id"]) else {
                "idea_id": [f"no public idea {subscription['idea_id']}"]}
        municipality, field = subscription["municipality"], subscription.get("field_of_action")
        if not self.places.knows(municipality):
            return {"municipality": [f"unknown municipality {municipality!r}"]}
        if subscription["kind"] == FIELD and not self.places.knows(municipality, field):
            return {"field_of_action": [f"{field!r} is not a field of action of {municipality}"]}
        group = subscription.get("working_group_id")
        if group and not self.group_known(municipality, group):
            return {"working_group_id": [f"no working group {group} in {municipality}"]}
        return {}


def announcement_problems(starts_at, now):
    """An announcement is of something to come: one in the past would only mislead."""
    return {} if starts_at > now else {"starts_at": ["must be in the future"]}


# --- the tokens of mail links ---------------------------------------------------------------

CONFIRM_LINK, MANAGE_LINK = "confirm", "manage"


def token_hash(token):
    """What is stored of a link's token: its SHA-256 (the token is 256 random bits, so no salt is needed)."""
    return hashlib.sha256(token.encode()).digest()


def link_expired(row, now):
    return now >= row["expires_at"]


def account_to_link(subscriber, linked_elsewhere):
    """The account an address is linked to when its owner confirms, or None.

    Only the account that asked for this confirmation, only if the address has none yet and that
    account is not linked to another address: subscribing never moves an address to an account.
    """
    pending = subscriber["pending_subject"]
    if pending is None or subscriber["subject"] is not None or linked_elsewhere:
        return None
    return pending


# --- timing -------------------------------------------------------------------------------

def digest_due(mode, now, hour=7):
    """When a notification for a subscriber with this digest mode goes out.

    immediate: now; daily: the next `hour` o'clock, municipal time; weekly: the next Monday then.
    """
    if mode == "immediate":
        return now
    local = now.astimezone(MUNICIPAL_TZ)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if mode == "weekly":
        due += timedelta(days=(-local.weekday()) % 7)
        step = timedelta(days=7)
    else:
        step = timedelta(days=1)
    if due <= local:
        due += step
    # wall-clock arithmetic in the zone: 07:00 stays 07:00 across a DST change
    return due.replace(tzinfo=None).replace(tzinfo=MUNICIPAL_TZ)


def backoff_seconds(attempts, base, cap):
    """Exponential backoff after the `attempts`-th failure: base, 2·base, 4·base, … at most cap."""
    return min(cap, base * 2 ** max(0, attempts - 1))


# --- digests ------------------------------------------------------------------------------

def group_for_digest(items):
    """Digest layout: [(field or None, [(idea title or None, [items])])], in order of first mention.

    Items about no idea (strategy-wide milestones) are under idea None; items without a field
    (milestones, announcements) come last, under field None.
    """
    fields = {}
    for item in items:
        field = item.get("field_name") or item.get("field_of_action")
        idea = (item.get("idea_title") or item["idea_id"]) if item.get("idea_id") else None
        fields.setdefault(field, {}).setdefault(idea, []).append(item)
    ordered = sorted(fields.items(), key=lambda entry: entry[0] is None)
    return [(field, list(ideas.items())) for field, ideas in ordered]


# --- webhooks -----------------------------------------------------------------------------

SIGNATURE_HEADER = "X-SmartCity-Signature"
TIMESTAMP_HEADER = "X-SmartCity-Timestamp"


# Names that reach a cloud provider's instance metadata (credentials!) from inside its network.
METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.goog", "instance-data",
                            "instance-data.ec2.internal", "metadata.azure.internal"})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def webhook_url_problem(url):
    """Why a webhook URL is refused before its host is even resolved, or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials (user:password@)"
    if not parts.hostname:
        return "must name a host"
    if parts.hostname.rstrip(".").lower() in METADATA_HOSTS:
        return "must not name a cloud metadata service"
    try:
        parts.port
    except ValueError:
        return "has an invalid port"
    return None


def address_problem(address, allowed):
    """Why a webhook may not be sent to this resolved IP address, or None.

    Only public unicast addresses: no private, loopback, link-local (cloud metadata at
    169.254.169.254), shared, reserved, unspecified or multicast ones, IPv4 or IPv6, also when
    wrapped in an IPv4-mapped or NAT64 IPv6 address; `allowed` (networks from configuration)
    names exceptions.
    """
    inner = address
    if address.version == 6:
        if address.ipv4_mapped is not None:
            inner = address.ipv4_mapped
        elif address in _NAT64:
            inner = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(candidate in network for network in allowed for candidate in (address, inner)):
        return None
    if inner.is_multicast or not inner.is_global:
        return "resolves to a private, loopback, link-local or other non-public address"
    return None


def signature(secret, timestamp, body):
    """HMAC-SHA256 over "<timestamp>.<body>", as receivers verify it (see the README)."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(secret, timestamp, body, received, now, tolerance_seconds=300):
    """What a receiver checks: the signature matches and the timestamp is recent (no replays)."""
    fresh = abs(now - int(timestamp)) <= tolerance_seconds
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), received)


# --- errors in events and the log --------------------------------------------------------

_ADDRESS = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


def public_error(text, limit=300):
    """An error text fit for an event or the delivery log: addresses removed, length bounded."""
    return _ADDRESS.sub("<address>", text)[:limit]
