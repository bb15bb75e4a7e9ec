"""Keyed pseudonyms of token subjects, for counting and linking people without naming them. Pure.

HMAC-SHA256 under a secret key from configuration (SMARTCITY_[<SERVICE>_]PSEUDONYM_KEY): a plain
hash of a subject is reversed by hashing a known or guessed subject, a keyed one only with the key.
"""
import hashlib
import hmac


def pseudonym(key, purpose, subject):
    """The pseudonym of `subject` for one `purpose` (different purposes give unlinkable values)."""
    return hmac.new(key.encode(), f"{purpose}:{subject}".encode(), hashlib.sha256).hexdigest()
