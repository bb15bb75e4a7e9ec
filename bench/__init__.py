"""The benchmarks (bench/harness.py says what they share). They read settings and service modules,
which import nameko and with it eventlet; nothing green runs in a benchmark process, so eventlet's
deprecation notice is left out of their output."""
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
