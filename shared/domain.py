"""The vocabulary every service shares: idea statuses and their groups, milestone states, the
municipal calendar and the clock. Pure: no I/O.

The event contract (shared.events) validates against these names; services import them from
here and hand them to SQL as parameters, so no list is written twice.
"""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

SUBMITTED, PUBLISHED, REJECTED = "submitted", "published", "rejected"
SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED = "shortlisted", "pilot", "in_implementation", "completed"
STATUSES = (SUBMITTED, PUBLISHED, REJECTED, SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED)
# What the public sees (and rankings list): moderated in, whatever happened after.
PUBLIC_STATUSES = (PUBLISHED, SHORTLISTED, PILOT, IN_IMPLEMENTATION, COMPLETED)
# Citizens support ideas that are public and not yet decided as pilots.
VOTABLE_STATUSES = (PUBLISHED, SHORTLISTED)
PILOT_OR_LATER = (PILOT, IN_IMPLEMENTATION, COMPLETED)
# The one ranking of ideas by support, in voting's and reporting's rankings alike (each orders so in SQL).
RANKING = "support, highest first (0 without votes); ties: the earlier publication, then the lower idea id"

SCHEDULED, REACHED, OVERDUE = "scheduled", "reached", "overdue"
MILESTONE_STATES = (SCHEDULED, REACHED, OVERDUE)

# The strategy process's steps (the Gera timetable of 2021). A milestone tied to a step is reached by
# the work itself: the ideas service marks it reached when the step happens.
SUB_CONCEPTS_SUBMITTED = "sub_concepts_submitted"  # 31.03.: ideas integrated into sub-concepts
STRATEGY_DRAFT_PUBLISHED = "strategy_draft_published"  # 30.06.: sub-concepts linked into a strategy
STRATEGY_DRAFT_REFINED = "strategy_draft_refined"  # 30.09.: a later draft after the feedback window
STRATEGY_ADOPTED = "strategy_adopted"  # the council adopts the strategy
STRATEGY_STEPS = (SUB_CONCEPTS_SUBMITTED, STRATEGY_DRAFT_PUBLISHED, STRATEGY_DRAFT_REFINED, STRATEGY_ADOPTED)

# What else the strategy process has: kinds of working groups, sponsors, meetings; what feedback is on.
WORKING_GROUP, EXPERT_GROUP = "working_group", "expert_group"  # Arbeitsgruppe, Fachgruppe
GROUP_KINDS = (WORKING_GROUP, EXPERT_GROUP)
SPONSOR_KINDS = ("citizen", "company", "institution")
MEETING_KINDS = ("theme_evening", "plenary")
COMMENT_TARGETS = ("idea", "sub_concept", "strategy")
COST_CLASSES = ("low", "medium", "high")  # expected cost of an idea profile: < 10k, < 100k, more (EUR)

# Every municipality of the programme is in Germany: "today" and "on time" follow its calendar.
MUNICIPAL_TZ = ZoneInfo("Europe/Berlin")


def utc_now() -> datetime:
    """The clock. Use cases read it through their unit of work (`uow.now()`), so tests can fix it."""
    return datetime.now(timezone.utc)


def municipal_today(now: datetime) -> date:
    return now.astimezone(MUNICIPAL_TZ).date()


def milestone_state(reached_at, overdue_at):
    if reached_at is not None:
        return REACHED
    return OVERDUE if overdue_at is not None else SCHEDULED
