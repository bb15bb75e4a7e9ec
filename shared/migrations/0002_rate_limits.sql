-- Rate limits (shared/ratelimit.py): one row per limited key ("<operation>:<subject|address>:<who>"),
-- shared by every replica of the service. GCRA state: `tat` is the theoretical arrival time in
-- epoch seconds of the database clock, so replicas with skewed clocks still agree. Unlogged: after
-- a database crash the limits start afresh, which is harmless; rows whose tat has passed are
-- equivalent to none and are swept.
CREATE UNLOGGED TABLE rate_limits (
    key       text             PRIMARY KEY,
    tat       double precision NOT NULL,
    step      double precision NOT NULL,  -- seconds one request uses up: period / count
    tolerance double precision NOT NULL,  -- the burst allowed: period - step
    allowed   boolean          NOT NULL   -- whether the latest request passed
);
