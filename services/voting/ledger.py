"""The tamper-evident vote ledger: per idea, a SHA-256 hash chain over every cast and withdrawal.

Each entry's hash covers the previous entry's hash and the entry itself, so changing,
removing or reordering any entry changes every later hash. The head hash travels in each
VoteCast / VoteWithdrawn event: a subscriber who keeps them can prove a rewritten history.
Pure: no I/O.
"""
import hashlib
from datetime import timezone

from shared.pseudonyms import pseudonym

GENESIS = "0" * 64


def voter_pseudonym(key, subject):
    """A stable pseudonym for the ledger, keyed: entries stay attributable without naming anyone."""
    return pseudonym(key, "smartcity-voter", subject)


def _canonical_time(moment):
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def entry_hash(prev_hash, idea_id, seq, action, round_id, voter_hash, total, at):
    text = "|".join((prev_hash, str(idea_id), str(seq), action, str(round_id), voter_hash, str(total),
                     _canonical_time(at)))
    return hashlib.sha256(text.encode()).hexdigest()


def next_entry(idea, action, round_id, voter_hash, total, at):
    """The entry that follows `idea`'s current head (`ledger_seq`, `ledger_head`)."""
    seq = idea["ledger_seq"] + 1
    return {
        "idea_id": idea["id"], "seq": seq, "action": action, "round_id": round_id, "voter_hash": voter_hash,
        "total": total, "at": at, "prev_hash": idea["ledger_head"],
        "hash": entry_hash(idea["ledger_head"], idea["id"], seq, action, round_id, voter_hash, total, at),
    }


def verify_chain(idea_id, entries, head_seq, head_hash, total):
    """Problems found in one idea's chain (an empty list when it is intact).

    Checks that sequence numbers run 1..n without gaps, each hash links to the previous one
    and matches its content, each recorded total is the running count of casts minus
    withdrawals, and that the idea's stored head and total equal the chain's end.
    """
    problems = []
    prev, running = GENESIS, 0
    for expected_seq, entry in enumerate(entries, start=1):
        where = f"idea {idea_id} entry {entry['seq']}"
        if entry["seq"] != expected_seq:
            problems.append(f"{where}: expected sequence number {expected_seq}")
        if entry["prev_hash"] != prev:
            problems.append(f"{where}: does not link to the previous entry")
        recomputed = entry_hash(entry["prev_hash"], idea_id, entry["seq"], entry["action"], entry["round_id"],
                                entry["voter_hash"], entry["total"], entry["at"])
        if recomputed != entry["hash"]:
            problems.append(f"{where}: hash does not match its content")
        running += 1 if entry["action"] == "cast" else -1
        if entry["total"] != running:
            problems.append(f"{where}: records total {entry['total']}, the ledger gives {running}")
        prev = entry["hash"]
    if head_seq != len(entries) or head_hash != prev:
        problems.append(f"idea {idea_id}: stored head (#{head_seq}) is not the chain's last entry (#{len(entries)})")
    if total != running:
        problems.append(f"idea {idea_id}: total is {total}, the ledger gives {running}")
    return problems
