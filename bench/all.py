"""`make bench`: the full run of every benchmark, one after another (each prints its figures and
its ratio to a raw baseline). All of them run even when one misses a target; the exit status is 1
when any target or check failed."""
import sys

from bench.smoke import run_each

if __name__ == "__main__":
    sys.exit(run_each([], "bench"))
