"""Inbox: remember which event ids a consumer applied, in the same transaction as the effect."""


def claim(cur, consumer, event_id, event_type):
    """True when the event is new for `consumer` (and is now recorded); False for a redelivery.

    Call first inside the transaction that applies the effect: if that transaction rolls back,
    the claim goes with it and the event can be applied on the next delivery. A concurrent
    redelivery waits on the row lock and then sees the conflict.
    """
    cur.execute(
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        (consumer, event_id, event_type),
    )
    return cur.fetchone() is not None
