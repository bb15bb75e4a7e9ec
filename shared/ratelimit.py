"""Rate limits per route, per token subject and per client address, shared by every replica.

An endpoint declares its limits, e.g. `@api(..., limits=Limits(subject="30/hour", address="300/hour"))`;
a write that anyone may call without a token gets ANONYMOUS_WRITE unless it declares its own.
SMARTCITY_[<SERVICE>_]RATE_LIMIT_<OPERATION> overrides one route ("subject=5/minute,address=50/minute"
or "off"); SMARTCITY_RATE_LIMITS=off turns every limit off (benchmarks). A request over a limit
is answered 429 with Retry-After, before its body is read.

The state is one row per key in the service's own PostgreSQL database (table rate_limits), kept
by the generic cell rate algorithm (GCRA) in one statement, on the database's clock: every
replica counts against the same budget, and the limit stays right however many replicas run.
The client address is the peer's, or, when the peer is one of SMARTCITY_TRUSTED_PROXIES (the
ingress), the nearest address in X-Forwarded-For that is not a trusted proxy. IPv6 clients are
counted per /64, which is what one subscriber line gets.
"""
import ipaddress
import math
import re
from dataclasses import dataclass

from psycopg2.extras import execute_values

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)\s*$")
SWEEP_EVERY = 1000  # checks between two sweeps of keys whose budget is full again


@dataclass(frozen=True)
class Rate:
    count: int
    period: float  # seconds

    @classmethod
    def parse(cls, text):
        """ "30/hour" -> Rate(30, 3600)."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"a rate is COUNT/UNIT with UNIT one of {', '.join(UNITS)}, not {text!r}")
        return cls(int(match.group(1)), float(UNITS[match.group(2)]))

    def __str__(self):
        unit = next(name for name, seconds in UNITS.items() if seconds == self.period)
        return f"{self.count}/{unit}"


@dataclass(frozen=True)
class Limits:
    """Per token subject and per client address; either may be None (not limited that way)."""
    subject: Rate | str | None = None
    address: Rate | str | None = None

    def __post_init__(self):
        for kind in ("subject", "address"):
            value = getattr(self, kind)
            if isinstance(value, str):
                object.__setattr__(self, kind, Rate.parse(value))

    @classmethod
    def parse(cls, text):
        """ "subject=5/minute,address=50/minute" -> Limits; "off" -> None."""
        if text.strip() == "off":
            return None
        rates = {}
        for part in text.split(","):
            kind, _, rate = part.partition("=")
            if kind.strip() not in ("subject", "address"):
                raise ValueError(f"a rate limit is subject=RATE and/or address=RATE, or off; not {text!r}")
            rates[kind.strip()] = Rate.parse(rate)
        return cls(**rates)

    def __str__(self):
        return ",".join(f"{kind}={getattr(self, kind)}" for kind in ("subject", "address") if getattr(self, kind))


ANONYMOUS_WRITE = Limits(address="60/minute")


class Limited(Exception):
    """Over a limit: try again after `retry_after` seconds."""

    def __init__(self, kind, retry_after):
        super().__init__(f"too many requests from this {kind}; try again in {retry_after} s")
        self.kind, self.retry_after = kind, retry_after


def client_address(remote_addr, forwarded_for, trusted_proxies):
    """The address a request counts against: see the module docstring."""
    chain = [remote_addr] + [part.strip() for part in reversed((forwarded_for or "").split(","))]
    address = None
    for hop in chain:
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            break  # a malformed hop: the last good one is as far as we can trust
        if not any(address in network for network in trusted_proxies):
            break
    if address is None:
        return remote_addr or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def trusted_networks(texts):
    return tuple(ipaddress.ip_network(text, strict=False) for text in texts)


class RateLimiter:
    """Checks and counts requests against the rate_limits table of the service's database."""

    def __init__(self, pool):
        self.pool = pool
        self.checks = 0

    def check(self, operation, limits, subject, address):
        """Count one request of `operation`; raise Limited if a limit is used up."""
        keys = []
        if limits.subject is not None and subject is not None:
            keys.append((f"{operation}:subject:{subject}", limits.subject, "token subject"))
        if limits.address is not None:
            keys.append((f"{operation}:address:{address}", limits.address, "client address"))
        if not keys:
            return
        keys.sort()  # one lock order for every request: no deadlocks between two keys
        with self.pool.transaction() as cur:
            rows = execute_values(cur, STATEMENT, [(key, rate.period / rate.count, rate.period - rate.period / rate.count)
                                                   for key, rate, _ in keys], fetch=True)
            self.checks += 1
            if self.checks % SWEEP_EVERY == 0:
                cur.execute("DELETE FROM rate_limits WHERE tat < extract(epoch FROM statement_timestamp())")
        refused = {row["key"]: row["wait"] for row in rows if not row["allowed"]}
        for key, _, kind in keys:
            if key in refused:
                raise Limited(kind, max(1, math.ceil(refused[key])))


# GCRA: a request at `now` is allowed when max(tat, now) - now <= tolerance; then tat moves on by
# `step`. A new key starts at now + step. `wait` is how long until the next request would pass.
STATEMENT = """
INSERT INTO rate_limits AS r (key, tat, step, tolerance, allowed)
SELECT k.key, n.now + k.step, k.step, k.tolerance, true
FROM (VALUES %s) AS k (key, step, tolerance), (SELECT extract(epoch FROM statement_timestamp()) AS now) AS n
ON CONFLICT (key) DO UPDATE SET
    allowed = greatest(r.tat, EXCLUDED.tat - EXCLUDED.step) - (EXCLUDED.tat - EXCLUDED.step) <= EXCLUDED.tolerance,
    tat = CASE WHEN greatest(r.tat, EXCLUDED.tat - EXCLUDED.step) - (EXCLUDED.tat - EXCLUDED.step) <= EXCLUDED.tolerance
               THEN greatest(r.tat, EXCLUDED.tat - EXCLUDED.step) + EXCLUDED.step ELSE r.tat END,
    step = EXCLUDED.step, tolerance = EXCLUDED.tolerance
RETURNING key, allowed, tat - extract(epoch FROM statement_timestamp()) - tolerance AS wait
"""


def limits_for(declared, method, roles, override, enabled=True):
    """The limits a route runs with: its override ("off" or limits) if set, else what it declared,
    else ANONYMOUS_WRITE for a write open to callers without a token; None when unlimited."""
    if not enabled:
        return None
    if override is not None:
        return Limits.parse(override)
    if declared is not None:
        return declared
    anonymous_write = roles is None and any(m not in ("GET", "HEAD", "OPTIONS") for m in method.split(","))
    return ANONYMOUS_WRITE if anonymous_write else None
