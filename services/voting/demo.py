"""Voting demo data, loaded through the public APIs after the ideas demo.

Gera gets an open citizens' round (budget 3) and Großenhain one (budget 2); 24 demo citizens
support ideas, so some pass Gera's threshold of 10 (SupportThresholdReached). The strategy
board (Strategiekreis) approves the marketplace idea as a pilot (PilotApproved; the ideas
service then shows it as `pilot`) and has an open decision on the smart-living idea, on whose
roster the printed board_member token's subject (demo-board_member) still has to vote.
The approved pilot then gets its tender milestone in the ideas service.
"""
import time
from datetime import datetime, timedelta, timezone
from functools import partial

from shared.domain import VOTABLE_STATUSES

CITIZENS = [f"demo-buerger-{n:02d}" for n in range(1, 25)]
PILOT_TITLE = "Marktplatz für digitale Produkte „Made in Gera“"
OPEN_DECISION_TITLE = "Smartes Wohnen in den eigenen vier Wänden"
ROUNDS = {"gera": ("Bürgervoting zur SMARTCity-Strategie", 3), "grossenhain": ("Ideenvoting Großenhain", 2)}


def already_loaded(api):
    return bool(api("voting", "GET", "/api/v1/rounds?municipality=gera"))


def _public_ideas(api, municipality):
    page = api("ideas", "GET", f"/api/v1/ideas?municipality={municipality}&page_size=100", role="staff")
    return [i for i in page["items"] if i["status"] in VOTABLE_STATUSES]


def _await_votable(api, municipality, ideas, seconds=30):
    """The ideas reach voting as events; wait until it knows each one's current status."""
    wanted = {idea["id"]: idea["status"] for idea in ideas}
    deadline = time.monotonic() + seconds
    while True:
        ranked = api("voting", "GET", f"/api/v1/rankings?municipality={municipality}&limit=500")
        if wanted.items() <= {(r["idea_id"], r["status"]) for r in ranked}:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"voting did not learn of {municipality}'s ideas within {seconds}s")
        time.sleep(0.2)


def _decide(api, idea_id, board, votes, now):
    """Put the idea before `board`; `votes` maps members to their choice."""
    decision = api("voting", "POST", "/api/v1/decisions", {
        "idea_id": idea_id, "board": board, "quorum": 3, "majority_rule": "simple",
        "deadline": (now + timedelta(days=14)).isoformat()}, role="staff")
    for member, choice in votes.items():
        decision = api("voting", "PUT", f"/api/v1/decisions/{decision['id']}/votes/me", {"choice": choice},
                       role="board_member", subject=member)
    return decision


def _schedule_pilot_milestone(api, idea_id, seconds=30):
    """Once the ideas service follows the board (a pilot), the pilot gets its tender milestone."""
    deadline = time.monotonic() + seconds
    while api("ideas", "GET", f"/api/v1/ideas/{idea_id}", role="staff")["status"] != "pilot":
        if time.monotonic() > deadline:
            raise RuntimeError(f"the ideas service did not make {idea_id} a pilot within {seconds}s")
        time.sleep(0.2)
    api("ideas", "POST", "/api/v1/milestones", {"municipality": "gera", "idea_id": idea_id, "due_date": "2027-03-31",
                                                "title": "Ausschreibung des Pilotprojekts abgeschlossen"},
        role="staff")


def load(api):
    """`api(service, method, path, body=None, role=None, subject=None)` -> the response's JSON."""
    now = datetime.now(timezone.utc)
    staff = partial(api, "voting", role="staff")
    api("voting", "PUT", "/api/v1/municipalities/gera/support-threshold", {"threshold": 10}, role="staff")
    votes = 0
    for municipality, (title, budget) in ROUNDS.items():
        ideas = _public_ideas(api, municipality)
        _await_votable(api, municipality, ideas)
        staff("POST", "/api/v1/rounds", {"municipality": municipality, "title": title, "budget": budget,
                                         "opens_at": (now - timedelta(days=7)).isoformat(),
                                         "closes_at": (now + timedelta(days=28)).isoformat()})
        for n, citizen in enumerate(CITIZENS):
            for k in range(budget):  # a skewed but deterministic spread over the ideas
                idea = ideas[(n * k + k) % len(ideas)]
                api("voting", "POST", f"/api/v1/ideas/{idea['id']}/votes", role="citizen", subject=citizen)
                votes += 1
    by_title = {i["title"]: i for i in _public_ideas(api, "gera")}
    board = [f"demo-board-{n}" for n in range(1, 6)]
    decided = _decide(api, by_title[PILOT_TITLE]["id"], board,
                      dict(zip(board, ["yes", "yes", "yes", "no", "abstain"])), now)
    _decide(api, by_title[OPEN_DECISION_TITLE]["id"], ["demo-board_member"] + board[:4],
            {board[0]: "yes", board[1]: "no"}, now)
    _schedule_pilot_milestone(api, decided["idea_id"])
    return (f"2 open rounds, {votes} support calls by {len(CITIZENS)} citizens, "
            f"1 pilot {decided['status']} by the board, 1 board decision open")
