"""Who may call what: one row per operation of each service's OpenAPI document.

A row is the HTTP status each kind of caller gets, in the order of CALLERS:

- none: no token;
- citizen, moderator, staff, board_member, admin: a token with that one role, of subject OWNER,
  who owns the resources the REQUESTS entries make (a linked subscriber, a feed item, a seat on
  a board decision);
- other: a token of another subject (OTHER_SUBJECT) with every role but admin: what someone else
  gets for OWNER's resources.

The request: path parameters name nothing (a fresh UUID; slug "gera", dataset "ideas") unless the
operation's REQUESTS entry makes a resource; a body is `{}` (so a caller who gets past the roles
sees 422) unless REQUESTS gives one, or a form (a page's POST, as a browser sends it) where REQUESTS
gives one; no query unless REQUESTS gives one.

Adding an endpoint: run `tests/security/test_role_matrix.py`; its failure prints the row with
the statuses observed. Check each one is what you mean, then paste it here.
"""

CALLERS = ("none", "citizen", "moderator", "staff", "board_member", "admin", "other")
OWNER = "matrix-owner"
OTHER_SUBJECT = "matrix-stranger"

# (service, "METHOD /path") -> {"fixture": name in test_role_matrix.FIXTURES, "body": {...}, "form": {...},
#                               "query": {...}}
UNKNOWN_LINK = {"query": {"token": "x" * 43}}  # a mail link's token that names nothing
REQUESTS = {
    ("notifications", "POST /api/v1/subscribers"): {"body": {"email": "matrix@example.org"}},
    ("notifications", "POST /api/v1/subscribers/confirm"): UNKNOWN_LINK,
    ("notifications", "POST /api/v1/unsubscribe"): UNKNOWN_LINK,
    # the pages behind mail links: a bearer token changes nothing, the link's token decides
    ("notifications", "GET /confirm"): UNKNOWN_LINK,
    ("notifications", "POST /confirm"): {**UNKNOWN_LINK, "form": {}},
    ("notifications", "GET /unsubscribe"): UNKNOWN_LINK,
    ("notifications", "POST /unsubscribe"): {**UNKNOWN_LINK, "form": {"List-Unsubscribe": "One-Click"}},
    ("notifications", "GET /my-data"): UNKNOWN_LINK,
    ("notifications", "POST /my-data"): {**UNKNOWN_LINK, "form": {"language": "en", "digest": "daily"}},
    ("notifications", "GET /my-data/export"): UNKNOWN_LINK,
    ("notifications", "GET /my-data/delete"): UNKNOWN_LINK,
    ("notifications", "POST /my-data/delete"): {**UNKNOWN_LINK, "form": {}},
    ("ideas", "GET /api/v1/comments"): {"query": {"target_kind": "idea",
                                                  "target_id": "00000000-0000-4000-8000-000000000000"}},
    ("ideas", "GET /api/v1/strategies"): {"query": {"municipality": "gera"}},
    ("ideas", "GET /api/v1/sub-concepts"): {"query": {"municipality": "gera"}},
    ("voting", "GET /api/v1/rankings"): {"query": {"municipality": "gera"}},
    ("voting", "GET /api/v1/rounds"): {"query": {"municipality": "gera"}},
    ("voting", "PUT /api/v1/decisions/{decision_id}/votes/me"): {"fixture": "decision", "body": {"choice": "yes"}},
    ("notifications", "GET /api/v1/subscriber"): {"fixture": "subscriber"},
    ("notifications", "PATCH /api/v1/subscriber"): {"fixture": "subscriber", "body": {"language": "en"}},
    ("notifications", "DELETE /api/v1/subscriber"): {"fixture": "subscriber"},
    ("notifications", "POST /api/v1/notifications/{item_id}/read"): {"fixture": "feed_item"},
    ("ideas", "POST /api/v1/meetings/{meeting_id}/registrations"): {"fixture": "meeting"},
    ("ideas", "DELETE /api/v1/meetings/{meeting_id}/registrations/me"): {"fixture": "registered_meeting"},
    ("ideas", "POST /api/v1/meetings/{meeting_id}/cancellation"): {"fixture": "meeting",
                                                                    "body": {"reason": "Matrix"}},
}

# Statuses that recur (the rows stay one line each).
PUBLIC = (200, 200, 200, 200, 200, 200, 200)  # anyone
NOTHING = (404, 404, 404, 404, 404, 404, 404)  # anyone; the id names nothing
STAFF_BODY = (401, 403, 403, 422, 403, 422, 422)  # staff (and admin) get past the roles to the empty body
STAFF_NOTHING = (401, 403, 403, 404, 403, 404, 404)  # staff get past the roles; the id names nothing
CITIZEN_NOTHING = (401, 404, 403, 403, 403, 404, 404)  # citizens get past the roles; the id names nothing
ANY_TOKEN_BODY = (401, 422, 422, 422, 422, 422, 422)  # any token gets past the roles to the empty body
OPS = {"GET /health/live": PUBLIC, "GET /health/ready": PUBLIC, "GET /metrics": PUBLIC, "GET /openapi.json": PUBLIC}

ROWS = {
    "ideas": {
        "GET /api/v1/ideas": PUBLIC,
        "GET /api/v1/ideas/{idea_id}": NOTHING,
        "GET /api/v1/milestones": PUBLIC,
        "GET /api/v1/milestones/{milestone_id}": NOTHING,
        "GET /api/v1/municipalities": PUBLIC,
        "GET /api/v1/municipalities/{slug}/fields": PUBLIC,
        "GET /api/v1/municipalities/{slug}/topic-stores": PUBLIC,
        "POST /api/v1/ideas": ANY_TOKEN_BODY,
        "POST /api/v1/ideas/{idea_id}/moderation": (401, 403, 422, 403, 403, 422, 422),
        "POST /api/v1/ideas/{idea_id}/status": STAFF_BODY,
        "POST /api/v1/milestones": STAFF_BODY,
        "POST /api/v1/milestones/{milestone_id}/reached": STAFF_NOTHING,  # every field optional: 404
        "GET /api/v1/working-groups": PUBLIC,
        "GET /api/v1/working-groups/{group_id}": NOTHING,
        "POST /api/v1/working-groups": STAFF_BODY,
        "POST /api/v1/working-groups/{group_id}/members": STAFF_BODY,
        "DELETE /api/v1/working-groups/{group_id}/members/{member_id}": STAFF_NOTHING,
        "GET /api/v1/competitions": PUBLIC,
        "GET /api/v1/competitions/{competition_id}": NOTHING,
        "POST /api/v1/competitions": STAFF_BODY,
        "POST /api/v1/competitions/{competition_id}/closing": STAFF_NOTHING,
        # any token (the jury is checked against the competition: 403 for others): the empty body first
        "POST /api/v1/competitions/{competition_id}/shortlist": ANY_TOKEN_BODY,
        "GET /api/v1/ideas/{idea_id}/sponsors": NOTHING,
        "POST /api/v1/ideas/{idea_id}/sponsors": ANY_TOKEN_BODY,
        "POST /api/v1/ideas/{idea_id}/sponsors/{sponsorship_id}/acceptance": STAFF_NOTHING,
        "GET /api/v1/meetings": PUBLIC,
        "GET /api/v1/meetings/{meeting_id}": NOTHING,
        "GET /api/v1/municipalities/{slug}/meetings.ics": PUBLIC,
        "GET /api/v1/working-groups/{group_id}/meetings.ics": NOTHING,
        "POST /api/v1/meetings": STAFF_BODY,
        "POST /api/v1/meetings/{meeting_id}/registrations": (401, 201, 201, 201, 201, 201, 201),  # any token
        # one's own registration: OWNER's, never another's (404 for the stranger)
        "DELETE /api/v1/meetings/{meeting_id}/registrations/me": (401, 204, 204, 204, 204, 204, 404),
        "POST /api/v1/meetings/{meeting_id}/cancellation": (401, 403, 403, 200, 403, 200, 200),
        "GET /api/v1/surveys": PUBLIC,
        "GET /api/v1/surveys/{survey_id}": NOTHING,
        "POST /api/v1/surveys": STAFF_BODY,
        # sub-concepts: any token gets past the roles (staff or a group member is checked on the sub-concept)
        "GET /api/v1/sub-concepts": PUBLIC,
        "GET /api/v1/sub-concepts/{sub_concept_id}": NOTHING,
        "POST /api/v1/sub-concepts": ANY_TOKEN_BODY,
        "POST /api/v1/sub-concepts/{sub_concept_id}/ideas": ANY_TOKEN_BODY,
        "POST /api/v1/sub-concepts/{sub_concept_id}/submission": (401, 404, 404, 404, 404, 404, 404),  # no body
        "GET /api/v1/strategies": PUBLIC,
        "GET /api/v1/strategies/{strategy_id}": NOTHING,
        "POST /api/v1/strategies": STAFF_BODY,
        "POST /api/v1/strategies/{strategy_id}/versions": STAFF_BODY,
        "POST /api/v1/strategies/{strategy_id}/feedback-closing": STAFF_NOTHING,
        "POST /api/v1/strategies/{strategy_id}/council-decision": STAFF_BODY,
        "GET /api/v1/comments": PUBLIC,
        "POST /api/v1/comments": ANY_TOKEN_BODY,
        "POST /api/v1/comments/{comment_id}/moderation": (401, 403, 422, 403, 403, 422, 422),
        "POST /api/v1/comments/{comment_id}/reports": ANY_TOKEN_BODY,
        "GET /api/v1/municipalities/{slug}/comment-moderation": PUBLIC,
        "PUT /api/v1/municipalities/{slug}/comment-moderation": STAFF_BODY,
        **OPS,
    },
    "voting": {
        "GET /api/v1/decisions": PUBLIC,
        "GET /api/v1/decisions/{decision_id}": NOTHING,
        "GET /api/v1/ideas/{idea_id}": NOTHING,
        "GET /api/v1/municipalities/{slug}/support-threshold": PUBLIC,
        "GET /api/v1/rankings": PUBLIC,
        "GET /api/v1/rounds": PUBLIC,
        "GET /api/v1/rounds/{round_id}": NOTHING,
        "GET /api/v1/rounds/{round_id}/ballot": (401, 404, 404, 404, 404, 404, 404),  # any token: own ballot
        "POST /api/v1/ideas/{idea_id}/votes": CITIZEN_NOTHING,
        "DELETE /api/v1/ideas/{idea_id}/votes": CITIZEN_NOTHING,
        "POST /api/v1/rounds": STAFF_BODY,
        "PUT /api/v1/municipalities/{slug}/support-threshold": STAFF_BODY,
        "POST /api/v1/decisions": STAFF_BODY,
        "POST /api/v1/decisions/{decision_id}/close": STAFF_NOTHING,
        # only members on the decision's roster: OWNER is, the other board member is not (403)
        "PUT /api/v1/decisions/{decision_id}/votes/me": (401, 403, 403, 403, 200, 200, 403),
        **OPS,
    },
    "notifications": {
        "POST /api/v1/subscribers": (202, 202, 202, 202, 202, 202, 202),  # the same answer for everyone
        "POST /api/v1/subscribers/confirm": NOTHING,  # the mail link's token names nothing
        "POST /api/v1/unsubscribe": NOTHING,
        "GET /confirm": NOTHING,  # the pages behind mail links: a page saying the link names nothing
        "POST /confirm": NOTHING,
        "GET /unsubscribe": NOTHING,
        "POST /unsubscribe": NOTHING,
        "GET /my-data": NOTHING,
        "POST /my-data": NOTHING,
        "GET /my-data/export": NOTHING,
        "GET /my-data/delete": NOTHING,
        "POST /my-data/delete": NOTHING,
        # a bearer token names its own subscriber: OWNER's, never another's (404 for the stranger)
        "GET /api/v1/subscriber": (401, 200, 200, 200, 200, 200, 404),
        "PATCH /api/v1/subscriber": (401, 200, 200, 200, 200, 200, 404),
        "DELETE /api/v1/subscriber": (401, 204, 204, 204, 204, 204, 404),
        "GET /api/v1/notifications": (401, 200, 200, 200, 200, 200, 200),  # one's own feed
        "POST /api/v1/notifications/read-all": (401, 200, 200, 200, 200, 200, 200),
        "POST /api/v1/notifications/{item_id}/read": (401, 204, 204, 204, 204, 204, 404),  # OWNER's item
        "GET /api/v1/announcements": PUBLIC,
        "POST /api/v1/announcements": STAFF_BODY,
        "GET /api/v1/deliveries": (401, 403, 403, 200, 403, 200, 200),
        "GET /api/v1/webhooks": (401, 403, 403, 200, 403, 200, 200),
        "POST /api/v1/webhooks": STAFF_BODY,
        "DELETE /api/v1/webhooks/{webhook_id}": STAFF_NOTHING,
        "POST /api/v1/webhooks/{webhook_id}/enable": STAFF_NOTHING,
        **OPS,
    },
    "reporting": {
        "GET /api/v1/exports": PUBLIC,
        "GET /api/v1/exports/{dataset}": PUBLIC,
        "GET /api/v1/fields": PUBLIC,
        "GET /api/v1/milestones": PUBLIC,
        "GET /api/v1/pilots": PUBLIC,
        "GET /api/v1/rankings": PUBLIC,
        "GET /api/v1/summary": PUBLIC,
        "GET /api/v1/timeseries": PUBLIC,
        # the strategy process, read only
        "GET /api/v1/working-groups": PUBLIC,
        "GET /api/v1/competitions": PUBLIC,
        "GET /api/v1/sponsors": PUBLIC,
        "GET /api/v1/sub-concepts": PUBLIC,
        "GET /api/v1/strategies": PUBLIC,
        "GET /api/v1/comment-counts": PUBLIC,
        "GET /api/v1/meetings": PUBLIC,
        "GET /api/v1/surveys": PUBLIC,
        "GET /": PUBLIC,  # a redirect to the dashboard, followed
        "GET /dashboard": PUBLIC,
        "GET /ideas/{idea_id}": NOTHING,
        "GET /milestones": PUBLIC,
        "GET /pilots": PUBLIC,
        **OPS,
    },
}
