"""Replaying a service's past events for a subscriber that joined late."""
import pytest

from shared.amqp import Publisher
from shared.db import Pool
from shared.outbox import replay
from tests.fixtures import wait_for
from tests.ideas.test_api import moderate, submit

pytestmark = pytest.mark.integration


def test_replay_publishes_the_sent_events_of_the_chosen_types_again_with_their_ids(
        ideas_api, auth, ideas_sql, ideas_settings, tap):
    live = tap("ideas.events")
    idea = submit(ideas_api, auth)["id"]
    moderate(ideas_api, auth, idea)
    originals = {e["type"]: e["id"] for e in live.wait("IdeaPublished")} | \
        {e["type"]: e["id"] for e in live.wait("IdeaSubmitted")}
    wait_for(lambda: ideas_sql("SELECT count(*) FROM outbox WHERE sent_at IS NULL")[0][0] == 0)

    late = tap("ideas.events")
    pool, publisher = Pool(ideas_settings.database_url, 1), Publisher(ideas_settings.amqp_uri)
    try:
        assert replay(pool, publisher, ["IdeaPublished"]) == 1
    finally:
        publisher.close()
        pool.close()
    [again] = late.wait("IdeaPublished")
    late.settle(0.3)
    assert again["id"] == originals["IdeaPublished"]
    assert late.events("IdeaSubmitted") == []
