"""Rules of sub-concepts and the strategy draft. Pure: no I/O.

A sub-concept is a draft until its working group submits it; only a draft takes ideas, and an idea
goes into at most one sub-concept. The strategy's versions come one after another: a new one only
once the previous version's feedback window has closed and never after the council adopted one.
"""
from shared.domain import PUBLIC_STATUSES, STRATEGY_DRAFT_PUBLISHED, STRATEGY_DRAFT_REFINED
from shared.errors import Conflict, Forbidden, InvalidInput

from ..roles import STAFF

DRAFT, SUBMITTED = "draft", "submitted"
ADOPTED, RETURNED = "adopted", "returned"
COUNCIL_OUTCOMES = (ADOPTED, RETURNED)


def require_group_role(principal, is_member):
    """Staff (and admins) act for any working group, members by their token subject for their own."""
    if not (principal.has_any(STAFF) or is_member):
        raise Forbidden("only staff or a member of the working group may do this")


def sub_concept_status(sub_concept):
    return SUBMITTED if sub_concept["submitted_at"] is not None else DRAFT


def integration_needed(sub_concept, idea):
    """True when `idea` is to be integrated into `sub_concept`; False when it already is (no change).

    The idea must be public and of the sub-concept's municipality (else 422 naming idea_id, as for
    any reference that names nothing); the sub-concept a draft and the idea in no other (else 409).
    """
    if idea is None or idea["municipality"] != sub_concept["municipality"] or idea["status"] not in PUBLIC_STATUSES:
        raise InvalidInput("no such public idea", {"idea_id": ["no public idea of this id in the municipality"]})
    if idea["sub_concept_id"] == sub_concept["id"]:
        return False
    if idea["sub_concept_id"] is not None:
        raise Conflict("idea is already integrated into another sub-concept",
                       {"idea_id": [f"integrated into sub-concept {idea['sub_concept_id']}"]})
    if sub_concept["submitted_at"] is not None:
        raise Conflict("sub-concept is submitted; it takes no more ideas", {"sub_concept": ["already submitted"]})
    return True


def all_submitted(sub_concepts):
    """The step sub_concepts_submitted: the municipality has sub-concepts and every one is submitted."""
    return bool(sub_concepts) and all(s["submitted_at"] is not None for s in sub_concepts)


def check_new_version(strategy, latest, sub_concepts, requested_ids, feedback_until, now):
    """Refuse a new draft version that may not be published now; `sub_concepts` are the rows found
    for `requested_ids` (id -> row)."""
    if strategy["adopted_at"] is not None:
        raise Conflict("the strategy is adopted; it takes no further versions", {"strategy": ["adopted"]})
    if latest is not None and latest["feedback_closed_at"] is None:
        raise Conflict(f"feedback on version {latest['version']} is still open; close it first",
                       {"feedback": [f"open until {latest['feedback_until'].isoformat()}"]})
    problems = []
    if len(set(requested_ids)) != len(requested_ids):
        problems.append("a sub-concept is named twice")
    for sub_concept_id in requested_ids:
        row = sub_concepts.get(sub_concept_id)
        if row is None or row["municipality"] != strategy["municipality"]:
            problems.append(f"{sub_concept_id}: no sub-concept of this id in the municipality")
        elif row["submitted_at"] is None:
            problems.append(f"{sub_concept_id}: not submitted yet")
    if problems:
        raise InvalidInput("sub-concepts that cannot be linked", {"sub_concept_ids": problems})
    if feedback_until <= now:
        raise InvalidInput("the feedback window must end in the future", {"feedback_until": ["must be in the future"]})


def step_of_version(version):
    """The milestone step a published version is: the first draft, or a refined one (a later version is
    only published after the previous window closed, see check_new_version)."""
    return STRATEGY_DRAFT_PUBLISHED if version == 1 else STRATEGY_DRAFT_REFINED


def feedback_open(version, now):
    """A version takes comments from its publication until its window ends or staff close it."""
    return (version is not None and version["feedback_closed_at"] is None
            and version["published_at"] <= now < version["feedback_until"])


def check_council_decision(strategy, latest):
    """The council decides on the latest version, once, after its feedback window closed."""
    if latest is None:
        raise Conflict("no draft version published yet", {"strategy": ["no version to decide on"]})
    if strategy["adopted_at"] is not None:
        raise Conflict("the strategy is already adopted", {"strategy": ["adopted"]})
    if latest["feedback_closed_at"] is None:
        raise Conflict(f"feedback on version {latest['version']} is still open",
                       {"feedback": ["close the feedback window first"]})
    if latest["council_outcome"] is not None:
        raise Conflict(f"the council already decided on version {latest['version']}",
                       {"outcome": [f"version {latest['version']} was {latest['council_outcome']}"]})
