"""Survey results: reading the CSV (every bad line named with its column) and the import use case."""
import uuid
from datetime import date

import pytest

from services.ideas.surveys import domain, use_cases
from services.ideas.surveys.commands import GetSurvey, ImportSurvey, ListSurveys
from shared.errors import InvalidInput, NotFound

RESULTS = ("question,answer,count\n"
           "Wie oft nutzen Sie digitale Angebote der Stadt?,täglich,120\n"
           "Wie oft nutzen Sie digitale Angebote der Stadt?,nie,30\n"
           '"Was ist Ihnen wichtig, wenn Sie an Smart City denken?",Datenschutz,95\n')


def survey(uow, csv=RESULTS, **changes):
    fields = dict(municipality="gera", title="Bürgerumfrage SMARTCity", conducted_by="Duale Hochschule Gera-Eisenach",
                  period_start=date(2021, 1, 15), period_end=date(2021, 3, 31), csv=csv)
    return use_cases.import_survey(uow, ImportSurvey(**{**fields, **changes}))


def test_rows_are_read_in_file_order_with_quoted_commas():
    rows = domain.parse_results(RESULTS)
    assert rows[0] == {"question": "Wie oft nutzen Sie digitale Angebote der Stadt?", "answer": "täglich",
                       "count": 120}
    assert rows[2]["question"] == "Was ist Ihnen wichtig, wenn Sie an Smart City denken?"
    assert len(rows) == 3


def test_a_semicolon_file_from_a_spreadsheet_is_read_too_and_blank_lines_are_skipped():
    rows = domain.parse_results("\ufeffQuestion;Answer;Count\r\n\r\nFrage 1;ja;3\r\nFrage 1;nein;4\r\n")
    assert rows == [{"question": "Frage 1", "answer": "ja", "count": 3},
                    {"question": "Frage 1", "answer": "nein", "count": 4}]


@pytest.mark.parametrize("text,problem", [
    ("frage,antwort,anzahl\nA,b,1\n", "line 1: the header row must be question,answer,count"),
    ("question,answer,count\nA,b,1\nA,c,-2\n", "line 3, column count: must be a whole number, 0 or more (got '-2')"),
    ("question,answer,count\nA,b,viele\n", "line 2, column count: must be a whole number, 0 or more (got 'viele')"),
    ("question,answer,count\nA,,1\n", "line 2, column answer: must not be empty"),
    ("question,answer,count\n,b,1\n", "line 2, column question: must not be empty"),
    ("question,answer,count\nA,b\n", "line 2: expected 3 columns (question,answer,count), found 2"),
    ("question,answer,count\nA,b,1\nA,b,2\n",
     "line 3, column answer: 'b' to this question was already given on line 2"),
    ("question,answer,count\n", "no result rows: expected the header row and at least one line of results"),
    ("question,answer,count\nA,b,1\n\"A,b,1\n", "line 3: not valid CSV (unexpected end of data)"),
    ("question,answer,count\n" + "x" * 501 + ",b,1\n", "line 2, column question: longer than 500 characters"),
])
def test_a_bad_line_is_named_with_its_column(text, problem):
    with pytest.raises(InvalidInput) as refused:
        domain.parse_results(text)
    assert refused.value.fields == {"csv": [problem]}


def test_every_bad_line_is_named_up_to_a_limit():
    text = "question,answer,count\n" + "".join(f"A,{n},x\n" for n in range(25))
    with pytest.raises(InvalidInput) as refused:
        domain.parse_results(text)
    problems = refused.value.fields["csv"]
    assert len(problems) == domain.MAX_PROBLEMS + 1 and problems[-1] == "… and 5 more"
    assert problems[0].startswith("line 2, column count")


def test_more_rows_than_the_contract_allows_are_refused():
    text = "question,answer,count\n" + "".join(f"A,{n},1\n" for n in range(domain.MAX_ROWS + 1))
    with pytest.raises(InvalidInput) as refused:
        domain.parse_results(text)
    assert refused.value.fields["csv"] == [f"line {domain.MAX_ROWS + 2}: more than {domain.MAX_ROWS} result rows"]


def test_by_question_totals_and_shares():
    summary = domain.by_question(domain.parse_results(RESULTS))
    assert [q["total"] for q in summary] == [150, 95]
    assert summary[0]["answers"] == [{"answer": "täglich", "count": 120, "share": 0.8},
                                     {"answer": "nie", "count": 30, "share": 0.2}]
    assert domain.by_question([{"question": "Q", "answer": "a", "count": 0}])[0]["answers"][0]["share"] == 0.0


def test_import_stores_the_survey_and_emits_its_rows(uow, repo):
    imported = survey(uow)
    assert [row["count"] for row in imported["rows"]] == [120, 30, 95]
    assert imported["questions"][0]["total"] == 150
    assert uow.types() == ["SurveyResultsImported"]
    data = uow.events[0]["data"]
    assert data["survey_id"] == str(imported["id"]) and data["period_end"] == "2021-03-31"
    assert data["rows"][2] == {"question": "Was ist Ihnen wichtig, wenn Sie an Smart City denken?",
                               "answer": "Datenschutz", "count": 95}
    assert use_cases.get_survey(uow, GetSurvey(imported["id"]))["rows"] == imported["rows"]
    [listed] = use_cases.list_surveys(uow, ListSurveys("gera"))
    assert listed["row_count"] == 3 and "rows" not in listed
    assert use_cases.list_surveys(uow, ListSurveys("grossenhain")) == []


def test_refused_imports_store_nothing(uow, repo):
    with pytest.raises(InvalidInput) as bad_line:
        survey(uow, csv="question,answer,count\nA,b,1\nA,c,zwei\n")
    assert bad_line.value.fields == {"csv": ["line 3, column count: must be a whole number, 0 or more (got 'zwei')"]}
    with pytest.raises(InvalidInput) as unknown:
        survey(uow, municipality="atlantis")
    assert "municipality" in unknown.value.fields
    assert repo.surveys == {} and uow.events == []
    with pytest.raises(NotFound):
        use_cases.get_survey(uow, GetSurvey(uuid.uuid4()))
