"""Inbox: remember which event ids a consumer applied, in the same transaction as the effect."""


def claim(cur, consumer, event):
    """True when `event` is new for `consumer` (and is now recorded); False for a redelivery.

    Call first inside the transaction that applies the effect: if that transaction rolls back,
    the claim goes with it and the event can be applied on the next delivery. A concurrent
    redelivery waits on the row lock and then sees the conflict.
    """
    cur.execute(
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES (%s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        (consumer, event["id"], event["type"]),
    )
    return cur.fetchone() is not None


def apply_once(pool, consumer, event, effect):
    """Run `effect(cur)` for a new event in one transaction with its inbox row.

    Returns False (and does nothing) for an event this consumer already applied.
    """
    with pool.transaction() as cur:
        if not claim(cur, consumer, event):
            return False
        effect(cur)
        return True
