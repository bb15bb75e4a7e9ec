"""Idea sponsors on the in-memory unit of work: offered by anyone signed in for a public idea, accepted
once by staff; the public sees accepted ones by name only with consent."""
import uuid

import pytest

from services.ideas import use_cases as idea_use_cases
from services.ideas.commands import ModerateIdea, SubmitIdea
from services.ideas.sponsors import use_cases
from services.ideas.sponsors.commands import AcceptSponsorship, ListSponsors, OfferSponsorship
from shared.auth import Principal
from shared.errors import Conflict, NotFound

COMPANY = Principal("company-1", frozenset({"citizen"}))
NEIGHBOUR = Principal("citizen-2", frozenset({"citizen"}))
STAFF = Principal("staff-1", frozenset({"staff"}))


def idea(uow, publish=True):
    submitted = idea_use_cases.submit_idea(uow, SubmitIdea(
        author_id="alice", municipality="gera", field_of_action="energie", title="Solardächer auf Schulen",
        description="Alle Schuldächer mit Photovoltaik ausstatten."), idea_use_cases.KnownFields())
    if publish:
        idea_use_cases.moderate_idea(uow, ModerateIdea(submitted["id"], publish=True))
    return submitted


def offer(uow, idea_id, sponsor=COMPANY, kind="company", name="Energieversorgung Gera GmbH", show=True):
    uow.clock.advance(minutes=1)
    return use_cases.offer_sponsorship(uow, OfferSponsorship(idea_id, sponsor, kind, name, show))


def test_an_offer_then_its_acceptance_with_the_sponsor_in_the_events(uow, repo):
    solar = idea(uow)
    offered = offer(uow, solar["id"])
    assert offered["status"] == "offered"
    event = uow.events[-1]
    assert event["type"] == "SponsorOffered" and event["subject"] == str(solar["id"])
    assert (event["data"]["sponsor_id"], event["data"]["sponsor_kind"]) == ("company-1", "company")
    accepted = use_cases.accept_sponsorship(uow, AcceptSponsorship(solar["id"], offered["id"]))
    assert accepted["status"] == "accepted" and accepted["accepted_at"] == uow.now()
    assert uow.events[-1]["type"] == "SponsorAccepted"
    assert uow.events[-1]["data"]["public_name"] == "Energieversorgung Gera GmbH"
    use_cases.accept_sponsorship(uow, AcceptSponsorship(solar["id"], offered["id"]))  # again: nothing new
    assert uow.types().count("SponsorAccepted") == 1 and repo.locked[-1] == offered["id"]


def test_a_sponsor_without_consent_stays_nameless_in_public_and_in_the_event(uow):
    solar = idea(uow)
    shy = offer(uow, solar["id"], NEIGHBOUR, "citizen", "Erika Mustermann", show=False)
    open_offer = offer(uow, solar["id"])
    use_cases.accept_sponsorship(uow, AcceptSponsorship(solar["id"], shy["id"]))
    assert uow.events[-1]["data"]["public_name"] is None
    public = use_cases.list_sponsors(uow, ListSponsors(solar["id"]))
    assert [(s["kind"], s["display_name"], s["status"]) for s in public] == [("citizen", None, "accepted")]
    assert "Erika" not in str(public) and "sponsor_id" not in public[0]
    staff = use_cases.list_sponsors(uow, ListSponsors(solar["id"], viewer=STAFF))
    assert [s["id"] for s in staff] == [shy["id"], open_offer["id"]]  # open offers too, to decide on them


def test_offers_are_for_public_ideas_once_per_sponsor(uow, repo):
    hidden = idea(uow, publish=False)
    with pytest.raises(NotFound):
        offer(uow, hidden["id"])
    with pytest.raises(Conflict) as unpublished:  # the author sees their own, but it is not published
        offer(uow, hidden["id"], Principal("alice", frozenset({"citizen"})))
    assert list(unpublished.value.fields) == ["idea_id"]
    solar = idea(uow)
    offer(uow, solar["id"])
    with pytest.raises(Conflict):
        offer(uow, solar["id"])
    assert len(repo.sponsorships_by_id) == 1 and uow.types().count("SponsorOffered") == 1


def test_an_acceptance_names_a_sponsorship_of_that_idea(uow):
    solar, other = idea(uow), idea(uow)
    offered = offer(uow, solar["id"])
    for idea_id, sponsorship_id in ((other["id"], offered["id"]), (solar["id"], uuid.uuid4()),
                                    (uuid.uuid4(), offered["id"])):
        with pytest.raises(NotFound):
            use_cases.accept_sponsorship(uow, AcceptSponsorship(idea_id, sponsorship_id))
    assert "SponsorAccepted" not in uow.types()
