"""`make bench-smoke`: every benchmark once with --smoke, so none of them rots between releases.

A smoke run is about a second of load with every correctness check of the benchmark and none of
its speed targets; `make test` runs it. Each benchmark runs as its own process, one after another
(they share the machine's two cores), and this exits 1 when any of them failed. `run_each` also
serves `make bench` (bench/all.py): the full runs, all four even when one misses a target.
"""
import subprocess
import sys
import time

BENCHMARKS = ("bench.ideas_throughput", "bench.voting_throughput", "bench.notifications_fanout",
              "bench.reporting_throughput")


def run_each(options, label):
    """Every benchmark with `options`, one after another; 1 when any failed."""
    failed = []
    for module in BENCHMARKS:
        started = time.monotonic()
        code = subprocess.call([sys.executable, "-m", module, *options])
        print(f"{label}: {module} {'passed' if code == 0 else f'FAILED (exit {code})'}"
              f" in {time.monotonic() - started:.1f} s", flush=True)
        if code != 0:
            failed.append(module)
    if failed:
        print(f"{label}: {len(failed)} benchmark(s) failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def main():
    return run_each(["--smoke"], "bench-smoke")


if __name__ == "__main__":
    sys.exit(main())
