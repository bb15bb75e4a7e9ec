"""What no request may carry, checked before any schema or SQL sees it. Pure: no I/O.

PostgreSQL refuses a NUL character in text and cannot encode a lone UTF-16 surrogate, and a
datetime whose UTC offset lies outside ±15:59 does not fit a timestamptz; Python's JSON parser
recurses once per nesting level. Each of these used to surface as a 500 with a traceback. Here
each is found where it enters (body, query, path, headers, token claims) and reported as a
problem naming the place, which the HTTP edge answers with a 4xx.
"""
import datetime
import re

MAX_JSON_DEPTH = 32  # a request body nested deeper than this is refused before parsing
MAX_UTC_OFFSET = datetime.timedelta(hours=14)  # the widest offset in use on Earth (Kiribati)
# Before 1900 municipal time zones had offsets in seconds (Berlin: +00:53:28), which RFC 3339
# cannot write; at the other end a day more overflows Python's calendar.
FIRST_YEAR, LAST_YEAR = 1900, 9998

# NUL, and UTF-16 surrogates, which are no characters on their own (a str holds one only when
# decoded with "surrogatepass"/"surrogateescape", or from a JSON "\ud800" escape).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")


def text_problem(value):
    """Why a string cannot be accepted, or None."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    return "must not contain NUL characters" if found.group() == "\x00" else "must be valid Unicode text"


def json_depth_exceeds(raw, limit=MAX_JSON_DEPTH):
    """True when the JSON text `raw` (bytes) nests arrays/objects deeper than `limit`.

    A linear scan that skips string contents; run before json.loads, whose recursion a deep
    enough body would exhaust. Bodies with few brackets, nearly all of them, skip the scan.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


def payload_problems(value, where=""):
    """{place: [message]} for every string (keys included) in parsed JSON that cannot be stored.

    A place is the dotted path to the value ("subscriptions.0.municipality"), `where` at the top.
    """
    problems = {}

    def walk(item, path):
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                problems.setdefault(path or "_schema", []).append(problem)
        elif isinstance(item, dict):
            for key, child in item.items():
                key_problem = text_problem(key)
                if key_problem:
                    problems.setdefault(path or "_schema", []).append(f"a key {key_problem}")
                    continue
                walk(child, f"{path}.{key}" if path else key)
        elif isinstance(item, list):
            for index, child in enumerate(item):
                walk(child, f"{path}.{index}" if path else str(index))

    walk(value, where)
    return problems


def mapping_problems(pairs):
    """{name: [message]} for query arguments, path values or headers, given as (name, value) pairs."""
    problems = {}
    for name, value in pairs:
        problem = text_problem(name) or (text_problem(value) if isinstance(value, str) else None)
        if problem:
            problems.setdefault(name if text_problem(name) is None else "_name", []).append(problem)
    return problems


def time_problems(value, where=""):
    """{place: [message]} for every date or time in loaded data outside the years FIRST_YEAR to
    LAST_YEAR, or with a UTC offset no time zone has."""
    problems = {}

    def walk(item, path):
        if isinstance(item, datetime.date) and not FIRST_YEAR <= item.year <= LAST_YEAR:
            problems.setdefault(path, []).append(f"must lie within the years {FIRST_YEAR} to {LAST_YEAR}")
        if isinstance(item, datetime.datetime):
            offset = item.utcoffset()
            if offset is not None and abs(offset) > MAX_UTC_OFFSET:
                problems.setdefault(path, []).append("the UTC offset must lie within ±14:00")
        elif isinstance(item, dict):
            for key, child in item.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(item, (list, tuple)):
            for index, child in enumerate(item):
                walk(child, f"{path}.{index}" if path else str(index))

    walk(value, where)
    return problems
