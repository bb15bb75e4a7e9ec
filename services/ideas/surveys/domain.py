"""Survey results as CSV: reading the file, and the per-question view of its rows. Pure: no I/O.

The file is `question,answer,count` with that header row (a semicolon-separated file, as German
spreadsheets save it, with or without a byte order mark, is read too). Every bad line is named with
its column, and nothing is kept unless every line is good.
"""
import csv
import io

from shared.errors import InvalidInput

HEADER = ("question", "answer", "count")
MAX_ROWS = 5000  # the SurveyResultsImported contract's limit
MAX_TEXT = 500  # characters of a question or an answer
MAX_COUNT = 100_000_000
MAX_PROBLEMS = 20  # named one by one; beyond that only counted


def _delimiter(text):
    first = text.split("\n", 1)[0]
    return ";" if ";" in first and "," not in first else ","


def _cell_problems(cells):
    """{column: message} of one data row's cells (already three)."""
    question, answer, count = (cell.strip() for cell in cells)
    problems = {}
    for column, value in (("question", question), ("answer", answer)):
        if not value:
            problems[column] = "must not be empty"
        elif len(value) > MAX_TEXT:
            problems[column] = f"longer than {MAX_TEXT} characters"
    if not count.isdigit() or not count.isascii():
        problems["count"] = f"must be a whole number, 0 or more (got {count[:20]!r})"
    elif int(count) > MAX_COUNT:
        problems["count"] = f"must be at most {MAX_COUNT}"
    return problems


def parse_results(text):
    """[{question, answer, count}] in file order, or InvalidInput naming each bad line and column under `csv`."""
    text = text.removeprefix("\ufeff")  # the byte order mark spreadsheets put before a UTF-8 file
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows, problems, seen, header_seen = [], [], {}, False
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # blank lines carry nothing
            if not header_seen:
                header_seen = True
                if tuple(cell.strip().lower() for cell in cells) != HEADER:
                    problems.append(f"line {line}: the header row must be {','.join(HEADER)}")
                continue
            if len(cells) != len(HEADER):
                problems.append(f"line {line}: expected 3 columns ({','.join(HEADER)}), found {len(cells)}")
                continue
            cell_problems = _cell_problems(cells)
            problems += [f"line {line}, column {column}: {message}" for column, message in cell_problems.items()]
            if cell_problems:
                continue
            question, answer, count = (cell.strip() for cell in cells)
            if (question, answer) in seen:
                problems.append(f"line {line}, column answer: {answer!r} to this question was already given"
                                f" on line {seen[question, answer]}")
                continue
            seen[question, answer] = line
            rows.append({"question": question, "answer": answer, "count": int(count)})
    except csv.Error as exc:
        problems.append(f"line {reader.line_num}: not valid CSV ({exc})")
    if not problems and not rows:
        problems.append("no result rows: expected the header row and at least one line of results")
    if len(rows) > MAX_ROWS:
        problems.append(f"line {reader.line_num}: more than {MAX_ROWS} result rows")
    if problems:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"… and {len(problems) - MAX_PROBLEMS} more")
        raise InvalidInput("the survey results have bad lines", {"csv": shown})
    return rows


def by_question(rows):
    """[{question, total, answers: [{answer, count, share}]}] in file order; share of the question's total."""
    questions = {}
    for row in rows:
        questions.setdefault(row["question"], []).append(row)
    summary = []
    for question, answers in questions.items():
        total = sum(answer["count"] for answer in answers)
        summary.append({"question": question, "total": total, "answers": [
            {"answer": a["answer"], "count": a["count"], "share": round(a["count"] / total, 4) if total else 0.0}
            for a in answers]})
    return summary
