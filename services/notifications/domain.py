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
IDEA, FIELD, MILESTONES, PILOT_DECISIONS, ANNOUNCEMENTS = (
    "idea", "field", "milestones", "pilot_decisions", "announcements")
KINDS = (IDEA, FIELD, MILESTONES, PILOT_DECISIONS, ANNOUNCEMENTS)
AUTHOR = "author"  # not a subscription: the idea's author hears of their own idea

ANNOUNCEMENT = "Announcement"  # staff-posted; the only trigger that is not an event on the bus
CONFIRMATION = "SubscriptionConfirmation"  # the double opt-in mail

# Trigger type -> who hears of it.
AUDIENCE = {
    "IdeaSubmitted": (AUTHOR,),  # the confirmation of receipt; not public before moderation
    "IdeaPublished": (AUTHOR, IDEA, FIELD),
    "IdeaRejected": (AUTHOR,),  # the reason is for the author only
    "IdeaStatusChanged": (AUTHOR, IDEA, FIELD),
    "SupportThresholdReached": (AUTHOR, IDEA, FIELD),
    "PilotApproved": (AUTHOR, IDEA, FIELD, PILOT_DECISIONS),
    "PilotRejected": (AUTHOR, IDEA, FIELD, PILOT_DECISIONS),
    "MilestoneReached": (IDEA, MILESTONES),
    "MilestoneOverdue": (IDEA, MILESTONES),
    ANNOUNCEMENT: (ANNOUNCEMENTS,),
}
TRIGGER_TYPES = tuple(AUDIENCE)

# What became of one attempt to deliver: the delivery's new status, or RETRY (still pending, later).
SENT, FAILED, RETRY, CANCELLED = "sent", "failed", "retry", "cancelled"


def topic(kind, municipality=None, idea_id=None, field_of_action=None):
    """The stored form of a subscription."""
    if kind == IDEA:
        return f"idea:{idea_id}"
    if kind == FIELD:
        return f"field:{municipality}/{field_of_action}"
    return f"{kind}:{municipality}"


def subscription_of(stored_topic):
    """The API form of a stored topic (inverse of `topic`)."""
    kind, _, scope = stored_topic.partition(":")
    if kind == IDEA:
        return {"kind": kind, "idea_id": scope}
    if kind == FIELD:
        municipality, _, field = scope.partition("/")
        return {"kind": kind, "municipality": municipality, "field_of_action": field}
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
    for kind in (MILESTONES, PILOT_DECISIONS, ANNOUNCEMENTS):
        if kind in audience:
            found.append(topic(kind, municipality))
    return found


def reaches_author(trigger_type):
    return AUTHOR in AUDIENCE[trigger_type]


def tells_people(trigger_type, content):
    """False for the ideas service's status change that follows a board decision: the decision's own
    mail already says it (one mail per board decision). Webhooks still get every event they asked for."""
    return not (trigger_type == "IdeaStatusChanged" and content.get("cause") == "board")


# Triggers about an idea that is public: their mails link to the idea's page.
NOT_PUBLIC_YET = ("IdeaSubmitted", "IdeaRejected")


def has_idea_page(trigger_type, content):
    return bool(content.get("idea_id")) and trigger_type not in NOT_PUBLIC_YET


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
