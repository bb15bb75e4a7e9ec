"""Every voting use case against the in-memory unit of work: no broker, no database."""
import inspect
import uuid
from datetime import timedelta

import pytest

from services.voting import ledger, use_cases
from services.voting.commands import (CastBoardVote, CastVote, CloseDecision, ListDecisions, ListRounds,
                                      OpenDecision, OpenRound, Rankings, SetThreshold, ShowBallot, ShowDecision,
                                      ShowIdea, ShowRound, ShowThreshold, TrackIdea, WithdrawVote)
from services.voting.repository import VotingRepository
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from tests.fakes import Clock, FakeUnitOfWork

from .fakes import FakeVotingRepository

DEFAULT_THRESHOLD = 50
KEY = "unit-test-pseudonym-key"
BOARD = ("board-anke", "board-bernd", "board-cem", "board-dana", "board-emil")
FIELDS = {"gera": [{"slug": "energie", "name": "Energie"}, {"slug": "umwelt", "name": "Umwelt"}]}


def fields_of_action(municipality):
    """The ideas service as the RPC client raises it: NotFound for an unknown municipality."""
    if municipality not in FIELDS:
        raise NotFound(f"municipality {municipality!r}")
    return FIELDS[municipality]


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def repo():
    return FakeVotingRepository()


@pytest.fixture
def uow(repo, clock):
    return FakeUnitOfWork("voting", repo, clock)


@pytest.fixture
def idea(uow):
    """announce(status=..., ...) -> idea id: an idea as the ideas service's events made it known."""
    def announce(status="published", municipality="gera", field="energie", title="Offene Messdaten"):
        idea_id = uuid.uuid4()
        published_at = uow.now() - timedelta(seconds=1)
        use_cases.track_idea(uow, TrackIdea(str(uuid.uuid4()), "IdeaPublished", idea_id, municipality, field, title,
                                            status, published_at, published_at))
        return idea_id
    return announce


@pytest.fixture
def round_(uow):
    """open_(budget=3, ...) -> the round, open from an hour ago for a day."""
    def open_(municipality="gera", field=None, budget=3, opens=timedelta(hours=-1), closes=timedelta(days=1)):
        return use_cases.open_round(uow, OpenRound(municipality, field, "Bürgervoting Herbst", uow.now() + opens,
                                                   uow.now() + closes, budget), fields_of_action)
    return open_


def cast(uow, idea_id, voter="citizen-1"):
    return use_cases.cast_vote(uow, CastVote(idea_id, voter), DEFAULT_THRESHOLD, KEY)


def withdraw(uow, idea_id, voter="citizen-1"):
    return use_cases.withdraw_vote(uow, WithdrawVote(idea_id, voter), DEFAULT_THRESHOLD, KEY)


def refused(error, call, *args, **kwargs):
    """The error `call(*args, **kwargs)` raises, checked to be of class `error`."""
    with pytest.raises(error) as caught:
        call(*args, **kwargs)
    return caught.value


def test_the_fake_repository_has_the_sql_repositorys_methods():
    def public(cls):
        return {name: inspect.signature(f) for name, f in vars(cls).items()
                if callable(f) and not name.startswith("_")}
    assert public(FakeVotingRepository) == public(VotingRepository)


# --- ideas from the ideas service -----------------------------------------------------------

def track(uow, idea_id, status, at, event_type="IdeaStatusChanged", title=None, event_id=None, published_at=None):
    return use_cases.track_idea(uow, TrackIdea(event_id or str(uuid.uuid4()), event_type, idea_id, "gera",
                                               "energie", title, status, at, published_at))


def test_a_published_idea_becomes_votable_with_an_empty_ledger(uow, repo, clock):
    idea_id = uuid.uuid4()
    assert track(uow, idea_id, "published", clock.now, "IdeaPublished", title="Solardächer") is True
    shown = use_cases.get_idea(uow, ShowIdea(idea_id), DEFAULT_THRESHOLD)
    assert shown["status"] == "published" and shown["title"] == "Solardächer"
    assert shown["total"] == 0 and shown["ledger_seq"] == 0 and shown["ledger_head"] == ledger.GENESIS
    assert shown["threshold"] == DEFAULT_THRESHOLD
    assert uow.events == []


def test_a_redelivered_idea_event_is_applied_once(uow, repo, clock):
    idea_id, event_id = uuid.uuid4(), str(uuid.uuid4())
    assert track(uow, idea_id, "shortlisted", clock.now, event_id=event_id) is True
    repo.ideas[idea_id]["status"] = "tampered"  # a second application would overwrite this
    assert track(uow, idea_id, "shortlisted", clock.now + timedelta(seconds=1), event_id=event_id) is False
    assert repo.ideas[idea_id]["status"] == "tampered"
    assert ("voting.ideas", event_id) in uow.applied


def test_an_older_event_arriving_late_does_not_undo_a_newer_status_but_brings_the_title(uow, clock):
    idea_id = uuid.uuid4()
    track(uow, idea_id, "shortlisted", clock.now)
    track(uow, idea_id, "published", clock.now - timedelta(minutes=5), "IdeaPublished", title="Solardächer")
    shown = use_cases.get_idea(uow, ShowIdea(idea_id), DEFAULT_THRESHOLD)
    assert shown["status"] == "shortlisted" and shown["title"] == "Solardächer"
    assert shown["status_at"] == clock.now


def test_a_failed_application_releases_the_claim_so_the_redelivery_applies(uow, repo, clock, monkeypatch):
    idea_id, event_id = uuid.uuid4(), str(uuid.uuid4())

    def broken(idea, genesis):
        raise RuntimeError("database went away")
    monkeypatch.setattr(repo, "track_idea", broken)
    with pytest.raises(RuntimeError):
        track(uow, idea_id, "published", clock.now, event_id=event_id)
    monkeypatch.undo()
    assert uow.applied == set() and repo.ideas == {}
    assert track(uow, idea_id, "published", clock.now, event_id=event_id) is True
    assert idea_id in repo.ideas


def test_an_unknown_idea_is_not_found(uow):
    assert str(refused(NotFound, use_cases.get_idea, uow, ShowIdea(uuid.uuid4()), DEFAULT_THRESHOLD)) == \
        "idea not found"


# --- thresholds and rankings ----------------------------------------------------------------

def test_the_threshold_is_the_default_until_staff_set_one_for_a_known_municipality(uow, repo, clock):
    assert use_cases.threshold(uow, ShowThreshold("gera"), DEFAULT_THRESHOLD) == {"municipality": "gera",
                                                                                  "threshold": 50}
    assert use_cases.set_threshold(uow, SetThreshold("gera", 2), fields_of_action) == {"municipality": "gera",
                                                                                       "threshold": 2}
    assert use_cases.threshold(uow, ShowThreshold("gera"), DEFAULT_THRESHOLD)["threshold"] == 2
    assert repo.thresholds["gera"]["updated_at"] == clock.now


def test_a_threshold_for_a_municipality_the_ideas_service_does_not_know_is_not_found(uow, repo):
    error = refused(NotFound, use_cases.set_threshold, uow, SetThreshold("atlantis", 5), fields_of_action)
    assert error.message == "municipality not found"  # the HTTP message stays voting's own
    assert repo.thresholds == {} and uow.commits == 0


def test_an_ideas_service_that_does_not_answer_stops_the_threshold_change(uow, repo):
    def silent(municipality):
        raise Unavailable("the ideas service did not answer; try again")
    refused(Unavailable, use_cases.set_threshold, uow, SetThreshold("gera", 5), silent)
    assert repo.thresholds == {}


def test_rankings_order_by_total_then_the_earlier_publication_and_list_only_public_ideas(uow, idea, round_, clock):
    """shared.domain.RANKING, as reporting ranks."""
    first, early = idea(), idea()
    clock.advance(seconds=1)
    published_together = [idea(), idea(field="umwelt")]
    late, twin = sorted(published_together)  # published at the same time: the lower id first
    pilot, hidden, rejected = idea(status="pilot"), idea(status="submitted"), idea(status="rejected")
    idea(municipality="grossenhain")
    round_()
    cast(uow, twin, "y")
    cast(uow, late, "x")  # reached its total before `early`, published after it
    clock.advance(seconds=1)
    cast(uow, first, "x")
    cast(uow, first, "y")
    cast(uow, early, "z")
    ranking = use_cases.rankings(uow, Rankings("gera", None, 50))
    assert [(r["id"], r["total"], r["rank"]) for r in ranking[:4]] == [
        (first, 2, 1), (early, 1, 2), (late, 1, 3), (twin, 1, 4)]
    assert [r["id"] for r in ranking[4:]] == [pilot]  # no votes, still ranked; never hidden or rejected ones
    assert hidden not in {r["id"] for r in ranking} and rejected not in {r["id"] for r in ranking}
    assert [r["id"] for r in use_cases.rankings(uow, Rankings("gera", "umwelt", 50))] == [published_together[1]]
    assert [r["rank"] for r in use_cases.rankings(uow, Rankings("gera", None, 2))] == [1, 2]


def test_the_first_publication_is_kept_whatever_order_events_arrive_in(uow, repo, clock):
    idea_id = uuid.uuid4()
    track(uow, idea_id, "shortlisted", clock.now)  # a status change before the publication arrived
    assert repo.ideas[idea_id]["published_at"] is None
    track(uow, idea_id, "published", clock.now - timedelta(hours=1), "IdeaPublished",
          published_at=clock.now - timedelta(hours=1))
    assert repo.ideas[idea_id]["published_at"] == clock.now - timedelta(hours=1)
    assert repo.ideas[idea_id]["status"] == "shortlisted"


# --- rounds ---------------------------------------------------------------------------------

def test_a_round_is_opened_for_a_known_field_and_listed(uow, round_, clock):
    opened = round_(field="umwelt", budget=2)
    assert opened["field_of_action"] == "umwelt" and opened["budget"] == 2 and opened["created_at"] == clock.now
    assert use_cases.get_round(uow, ShowRound(opened["id"]))["title"] == "Bürgervoting Herbst"
    later = round_(opens=timedelta(days=2), closes=timedelta(days=3))
    assert [r["id"] for r in use_cases.list_rounds(uow, ListRounds("gera"))] == [opened["id"], later["id"]]
    assert [r["id"] for r in use_cases.list_rounds(uow, ListRounds("gera", open_only=True))] == [opened["id"]]
    clock.advance(days=2, hours=1)
    assert [r["id"] for r in use_cases.list_rounds(uow, ListRounds("gera", open_only=True))] == [later["id"]]


@pytest.mark.parametrize("municipality,field,named", [("atlantis", None, "municipality"),
                                                      ("gera", "raumfahrt", "field_of_action")])
def test_a_round_outside_the_ideas_services_places_is_refused_naming_the_field(uow, repo, round_, municipality,
                                                                               field, named):
    error = refused(InvalidInput, round_, municipality, field)
    assert list(error.fields) == [named]
    assert repo.rounds == {}


def test_an_unknown_round_is_not_found(uow):
    refused(NotFound, use_cases.get_round, uow, ShowRound(uuid.uuid4()))
    refused(NotFound, use_cases.ballot, uow, ShowBallot(uuid.uuid4(), "citizen-1"))


def test_the_ballot_shows_what_a_citizen_spent_in_the_round(uow, idea, round_, clock):
    ideas = [idea(), idea()]
    opened = round_(budget=3)
    for idea_id in ideas:
        clock.advance(seconds=1)
        cast(uow, idea_id, "carla")
    cast(uow, ideas[0], "someone-else")
    assert use_cases.ballot(uow, ShowBallot(opened["id"], "carla")) == {
        "round_id": opened["id"], "budget": 3, "used": 2, "remaining": 1, "ideas": ideas}


# --- support votes --------------------------------------------------------------------------

def test_a_vote_is_stored_chained_in_the_ledger_and_published_without_the_voter(uow, repo, idea, round_, clock):
    idea_id, opened = idea(), round_()
    assert cast(uow, idea_id, "citizen-anna") == {"idea_id": idea_id, "round_id": opened["id"], "total": 1,
                                                  "supported": True}
    assert uow.types() == ["VoteCast"]
    [event] = uow.events
    [entry] = repo.ledger[idea_id]
    assert event["subject"] == str(idea_id)
    assert event["data"]["total"] == 1 and event["data"]["round_id"] == str(opened["id"])
    assert event["data"]["ledger_seq"] == 1 and event["data"]["ledger_hash"] == entry["hash"]
    assert event["data"]["municipality"] == "gera" and event["data"]["field_of_action"] == "energie"
    assert "citizen-anna" not in str(event) and ledger.voter_pseudonym(KEY, "citizen-anna") not in str(event)
    assert entry["voter_hash"] == ledger.voter_pseudonym(KEY, "citizen-anna") and entry["at"] == clock.now
    assert ledger.verify_chain(idea_id, repo.ledger[idea_id], 1, entry["hash"], 1) == []
    assert repo.ballots[(opened["id"], "citizen-anna")] == 1
    assert use_cases.get_idea(uow, ShowIdea(idea_id), DEFAULT_THRESHOLD)["total"] == 1


def test_casting_again_returns_the_same_result_and_changes_nothing(uow, repo, idea, round_):
    idea_id = idea()
    round_()
    first = cast(uow, idea_id)
    again = cast(uow, idea_id)
    assert first == again
    assert uow.types() == ["VoteCast"] and len(repo.votes) == 1 and len(repo.ledger[idea_id]) == 1


def test_the_budget_limits_supports_per_round(uow, repo, idea, round_):
    ideas = [idea() for _ in range(3)]
    opened = round_(budget=2)
    cast(uow, ideas[0], "carla")
    cast(uow, ideas[1], "carla")
    error = refused(Conflict, cast, uow, ideas[2], "carla")
    assert "budget" in error.fields
    assert repo.ballots[(opened["id"], "carla")] == 2 and (ideas[2], "carla") not in repo.votes
    assert uow.types() == ["VoteCast", "VoteCast"]


@pytest.mark.parametrize("status", ["submitted", "rejected", "pilot", "completed"])
def test_only_published_or_shortlisted_ideas_take_support(uow, repo, idea, round_, status):
    idea_id = idea(status=status)
    round_()
    error = refused(Conflict, cast, uow, idea_id)
    assert error.fields == {"idea_id": [f"idea is {status}"]}
    assert repo.votes == {} and uow.events == []


def test_an_unknown_idea_takes_no_vote(uow, round_):
    round_()
    refused(NotFound, cast, uow, uuid.uuid4())


@pytest.mark.parametrize("opens,closes", [(timedelta(hours=1), timedelta(days=1)),
                                          (timedelta(days=-2), timedelta(days=-1))])
def test_no_vote_outside_an_open_round(uow, repo, idea, round_, opens, closes):
    idea_id = idea()
    round_(opens=opens, closes=closes)
    assert "round" in refused(Conflict, cast, uow, idea_id).fields
    assert repo.ballots == {} and repo.votes == {}


def test_a_vote_counts_in_the_round_of_its_field_before_a_municipality_wide_one(uow, idea, round_):
    idea_id = idea(field="energie")
    round_(budget=5)
    energy = round_(field="energie", budget=1)
    assert cast(uow, idea_id)["round_id"] == energy["id"]


def test_the_threshold_is_reached_once_even_if_support_drops_and_comes_back(uow, repo, idea, round_, clock):
    use_cases.set_threshold(uow, SetThreshold("gera", 2), fields_of_action)
    idea_id = idea()
    round_()
    cast(uow, idea_id, "v1")
    cast(uow, idea_id, "v2")
    reached_at = clock.now
    clock.advance(minutes=1)
    withdraw(uow, idea_id, "v2")
    cast(uow, idea_id, "v2")
    cast(uow, idea_id, "v3")
    assert uow.types() == ["VoteCast", "VoteCast", "SupportThresholdReached", "VoteWithdrawn", "VoteCast",
                           "VoteCast"]
    [reached] = [e for e in uow.events if e["type"] == "SupportThresholdReached"]
    assert reached["data"]["threshold"] == 2 and reached["data"]["total"] == 2
    assert repo.ideas[idea_id]["threshold_reached_at"] == reached_at


def test_withdrawing_lowers_the_total_frees_the_budget_and_is_chained(uow, repo, idea, round_, clock):
    idea_id, opened = idea(), round_(budget=1)
    cast(uow, idea_id, "bert")
    clock.advance(minutes=1)
    assert withdraw(uow, idea_id, "bert") == {"idea_id": idea_id, "round_id": opened["id"], "total": 0,
                                              "supported": False}
    withdrawn = uow.events[-1]
    assert withdrawn["type"] == "VoteWithdrawn" and withdrawn["data"]["total"] == 0
    assert withdrawn["data"]["ledger_seq"] == 2 and withdrawn["data"]["withdrawn_at"] == clock.now.isoformat()
    assert repo.ballots[(opened["id"], "bert")] == 0 and repo.votes == {}
    assert [e["action"] for e in repo.ledger[idea_id]] == ["cast", "withdraw"]
    assert use_cases.verify_ledger(uow) == (1, [])


def test_withdrawing_a_vote_that_is_not_there_is_not_found_and_changes_nothing(uow, repo, idea, round_):
    idea_id = idea()
    round_()
    assert "vote" in refused(NotFound, withdraw, uow, idea_id).message  # never cast
    assert uow.events == [] and idea_id not in repo.ledger
    cast(uow, idea_id)
    withdraw(uow, idea_id)
    before = (repo.ledger[idea_id], len(uow.events))
    assert "vote" in refused(NotFound, withdraw, uow, idea_id).message  # withdrawn already
    assert (repo.ledger[idea_id], len(uow.events)) == before


def test_no_withdrawal_once_the_round_closed(uow, repo, idea, round_, clock):
    idea_id = idea()
    round_(closes=timedelta(hours=1))
    cast(uow, idea_id)
    clock.advance(hours=2)
    assert refused(Conflict, withdraw, uow, idea_id).fields == {"round": ["round is closed"]}
    assert len(repo.votes) == 1 and repo.ideas[idea_id]["total"] == 1 and uow.types() == ["VoteCast"]


def test_a_vote_that_fails_midway_leaves_no_trace(uow, repo, idea, round_, monkeypatch):
    idea_id, opened = idea(), round_()

    def broken(*args):
        raise RuntimeError("connection lost")
    monkeypatch.setattr(repo, "set_total", broken)  # after the vote, budget and ledger are written
    with pytest.raises(RuntimeError):
        cast(uow, idea_id)
    assert repo.votes == {} and repo.ballots == {} and idea_id not in repo.ledger
    assert repo.rounds.keys() == {opened["id"]} and uow.events == [] and uow.rollbacks == 1


# --- the ledger -----------------------------------------------------------------------------

def test_verify_ledger_passes_on_real_votes_and_finds_each_kind_of_tampering(uow, repo, idea, round_):
    ideas = [idea(), idea()]
    round_()
    for idea_id in ideas:
        for citizen in ("a", "b", "c"):
            cast(uow, idea_id, citizen)
    withdraw(uow, ideas[0], "b")
    assert use_cases.verify_ledger(uow) == (2, [])
    repo.ledger[ideas[0]][1]["at"] += timedelta(seconds=1)
    repo.ideas[ideas[1]]["total"] += 5
    checked, problems = use_cases.verify_ledger(uow)
    assert checked == 2
    assert f"idea {ideas[0]} entry 2: hash does not match its content" in problems
    assert f"idea {ideas[1]}: total is 8, the ledger gives 3" in problems
    assert f"idea {ideas[1]}: total is 8, 3 votes are recorded" in problems


def test_verify_ledger_finds_a_deleted_vote_record(uow, repo, idea, round_):
    idea_id = idea()
    round_()
    cast(uow, idea_id)
    repo.votes.clear()
    assert use_cases.verify_ledger(uow) == (1, [f"idea {idea_id}: total is 1, 0 votes are recorded"])


# --- strategy-board decisions ---------------------------------------------------------------

@pytest.fixture
def decide(uow, idea):
    """decide(idea_id=None, **overrides) -> the open decision on a (new shortlisted) idea."""
    def open_(idea_id=None, board=BOARD, quorum=3, rule="simple", deadline=timedelta(days=7)):
        command = OpenDecision(idea_id or idea(status="shortlisted"), tuple(board), quorum, rule,
                               uow.now() + deadline, "staff-gera")
        return use_cases.open_decision(uow, command, DEFAULT_THRESHOLD)
    return open_


def board_vote(uow, decision, member, choice):
    return use_cases.cast_board_vote(uow, CastBoardVote(decision["id"], member, choice))


def test_a_decision_is_opened_on_a_shortlisted_idea(uow, decide, clock):
    decision = decide(quorum=2)
    assert decision["status"] == "open" and decision["board"] == list(BOARD) and decision["quorum"] == 2
    assert decision["opened_by"] == "staff-gera" and decision["opened_at"] == clock.now
    assert decision["municipality"] == "gera" and decision["votes"] == {}
    assert use_cases.get_decision(uow, ShowDecision(decision["id"])) == decision
    assert uow.events == []


@pytest.mark.parametrize("overrides,field", [({"quorum": 6}, "quorum"), ({"deadline": timedelta(0)}, "deadline")])
def test_a_decision_that_cannot_be_met_is_refused_naming_the_field(uow, repo, decide, overrides, field):
    assert list(refused(InvalidInput, decide, **overrides).fields) == [field]
    assert repo.decisions == {}


def test_the_board_decides_only_shortlisted_ideas_one_open_decision_at_a_time(uow, repo, idea, decide):
    assert refused(Conflict, decide, idea(status="published")).fields == {
        "idea_id": ["idea is published, not shortlisted"]}
    refused(NotFound, decide, uuid.uuid4())
    shortlisted = idea(status="shortlisted")
    decide(shortlisted)
    assert refused(Conflict, decide, shortlisted).fields == {"idea_id": ["an open decision exists"]}
    assert len(repo.decisions) == 1


def test_decisions_are_listed_newest_first_by_idea_and_status(uow, idea, decide, clock):
    shortlisted = idea(status="shortlisted")
    first = decide(shortlisted, quorum=1)
    use_cases.close_decision(uow, CloseDecision(first["id"], "staff-gera"))
    clock.advance(minutes=1)
    second = decide(shortlisted)
    other = decide()
    listed = use_cases.list_decisions(uow, ListDecisions())
    assert [d["id"] for d in listed] == [min(second["id"], other["id"]), max(second["id"], other["id"]),
                                         first["id"]]
    assert [d["id"] for d in use_cases.list_decisions(uow, ListDecisions(shortlisted, "open"))] == [second["id"]]
    assert [d["id"] for d in use_cases.list_decisions(uow, ListDecisions(status="rejected"))] == [first["id"]]
    refused(NotFound, use_cases.get_decision, uow, ShowDecision(uuid.uuid4()))


def test_the_last_missing_vote_closes_the_decision_and_emits_pilot_approved(uow, decide, clock):
    decision = decide()
    for member, choice in zip(BOARD[:4], ["yes", "yes", "no", "abstain"]):
        assert board_vote(uow, decision, member, choice)["status"] == "open"
    assert uow.events == []
    closed = board_vote(uow, decision, BOARD[4], "yes")
    assert closed["status"] == "approved" and closed["closed_by"] == "board" and closed["quorum_met"] is True
    assert closed["decided_at"] == clock.now and closed["reason"] is None
    [event] = uow.events
    assert event["type"] == "PilotApproved" and event["subject"] == str(decision["idea_id"])
    assert event["data"]["tally"] == {"yes": 3, "no": 1, "abstain": 1}
    assert event["data"]["board_size"] == 5 and event["data"]["quorum"] == 3 and event["data"]["quorum_met"] is True
    assert event["data"]["majority_rule"] == "simple" and event["data"]["decision_id"] == str(decision["id"])
    assert not any(member in str(event) for member in BOARD)


def test_members_may_change_their_vote_until_it_closes(uow, decide):
    decision = decide(rule="absolute")
    board_vote(uow, decision, "board-anke", "no")
    assert board_vote(uow, decision, "board-anke", "yes")["votes"] == {"board-anke": "yes"}
    board_vote(uow, decision, "board-bernd", "yes")
    board_vote(uow, decision, "board-cem", "yes")
    closed = use_cases.close_decision(uow, CloseDecision(decision["id"], "staff-gera"))
    assert closed["status"] == "approved" and closed["closed_by"] == "staff-gera"
    assert refused(Conflict, board_vote, uow, decision, "board-dana", "no").fields == {"decision": ["already closed"]}
    assert "board-dana" not in use_cases.get_decision(uow, ShowDecision(decision["id"]))["votes"]


def test_only_members_of_the_roster_vote(uow, repo, decide):
    decision = decide()
    assert "board" in refused(Forbidden, board_vote, uow, decision, "board-zoe", "yes").message
    refused(NotFound, board_vote, uow, {"id": uuid.uuid4()}, "board-anke", "yes")
    assert repo.board_votes == {}


def test_closing_twice_changes_nothing_and_emits_once(uow, decide):
    decision = decide(quorum=1)
    board_vote(uow, decision, "board-anke", "no")
    first = use_cases.close_decision(uow, CloseDecision(decision["id"], "staff-gera"))
    second = use_cases.close_decision(uow, CloseDecision(decision["id"], "staff-other"))
    assert first == second and first["status"] == "rejected" and first["reason"] == "majority"
    assert uow.types() == ["PilotRejected"] and uow.events[0]["data"]["reason"] == "majority"
    refused(NotFound, use_cases.close_decision, uow, CloseDecision(uuid.uuid4(), "staff-gera"))


def test_without_quorum_it_closes_at_the_deadline_as_rejected_no_quorum(uow, decide, clock):
    late = decide(quorum=4, deadline=timedelta(hours=1))
    decide(deadline=timedelta(days=2))
    board_vote(uow, late, "board-anke", "yes")
    board_vote(uow, late, "board-bernd", "yes")
    assert use_cases.close_due_decisions(uow) == 0
    clock.advance(hours=1)
    assert use_cases.close_due_decisions(uow) == 1
    [event] = uow.events
    assert event["type"] == "PilotRejected" and event["data"]["reason"] == "no_quorum"
    assert event["data"]["quorum_met"] is False and event["data"]["tally"] == {"yes": 2, "no": 0, "abstain": 0}
    assert use_cases.get_decision(uow, ShowDecision(late["id"]))["closed_by"] == "deadline"
    assert use_cases.close_due_decisions(uow) == 0 and len(uow.events) == 1


def test_two_thirds_rule_rejects_for_lack_of_majority(uow, decide):
    decision = decide(board=BOARD[:3], quorum=3, rule="two_thirds")
    for member, choice in zip(BOARD[:3], ["yes", "no", "no"]):
        board_vote(uow, decision, member, choice)
    [event] = uow.events
    assert event["type"] == "PilotRejected" and event["data"]["reason"] == "majority"
    assert event["data"]["quorum_met"] is True and event["data"]["majority_rule"] == "two_thirds"
