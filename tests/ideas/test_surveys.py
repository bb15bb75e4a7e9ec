"""Survey results over HTTP on the real PostgreSQL and RabbitMQ."""
import uuid

import pytest

pytestmark = pytest.mark.integration

SURVEY = {
    "municipality": "gera", "title": "Bürgerumfrage SMARTCity Gera", "conducted_by": "Duale Hochschule Gera-Eisenach",
    "period_start": "2021-01-15", "period_end": "2021-03-31",
    "csv": "question,answer,count\n"
           "Kennen Sie das Projekt SMARTCity Gera?,ja,412\n"
           "Kennen Sie das Projekt SMARTCity Gera?,nein,188\n"
           "\"Welche Themen sind Ihnen wichtig, bitte eins?\",Mobilität,230\n",
}


def test_import_stores_the_results_and_publishes_them(ideas_api, auth, ideas_sql, tap):
    events = tap("ideas.events", "SurveyResultsImported")
    response = ideas_api("POST", "/api/v1/surveys", json=SURVEY, headers=auth("staff"))
    assert response.status_code == 201, response.text
    survey = response.json()
    assert [row["count"] for row in survey["rows"]] == [412, 188, 230]
    assert survey["questions"][0] == {"question": "Kennen Sie das Projekt SMARTCity Gera?", "total": 600,
                                      "answers": [{"answer": "ja", "count": 412, "share": 0.6867},
                                                  {"answer": "nein", "count": 188, "share": 0.3133}]}
    assert ideas_sql("SELECT question, answer, count FROM survey_results ORDER BY position")[2] == (
        "Welche Themen sind Ihnen wichtig, bitte eins?", "Mobilität", 230)
    [event] = events.wait("SurveyResultsImported")
    assert event["data"]["survey_id"] == survey["id"] and len(event["data"]["rows"]) == 3
    assert event["data"]["conducted_by"] == "Duale Hochschule Gera-Eisenach"
    shown = ideas_api("GET", f"/api/v1/surveys/{survey['id']}").json()
    assert shown["rows"] == survey["rows"] and shown["period_end"] == "2021-03-31"
    [listed] = ideas_api("GET", "/api/v1/surveys?municipality=gera").json()
    assert listed["row_count"] == 3 and listed["id"] == survey["id"]
    assert ideas_api("GET", "/api/v1/surveys?municipality=grossenhain").json() == []
    assert ideas_api("GET", f"/api/v1/surveys/{uuid.uuid4()}").status_code == 404


@pytest.mark.parametrize("changes,field,message", [
    ({"csv": "question,answer,count\nA,ja,1\nA,nein,zwei\n"}, "csv",
     ["line 3, column count: must be a whole number, 0 or more (got 'zwei')"]),
    ({"csv": "frage,antwort\nA,ja\n"}, "csv", None),
    ({"period_end": "2021-01-01"}, "period_end", None),
    ({"municipality": "atlantis"}, "municipality", None),
    ({"csv": "x" * 60_001}, "csv", None),
    ({"title": ""}, "title", None),
])
def test_a_bad_import_gets_a_422_naming_the_field_and_stores_nothing(ideas_api, auth, ideas_sql, changes, field,
                                                                     message):
    response = ideas_api("POST", "/api/v1/surveys", json={**SURVEY, **changes}, headers=auth("staff"))
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert field in fields and (message is None or fields[field] == message)
    assert ideas_sql("SELECT (SELECT count(*) FROM surveys), (SELECT count(*) FROM survey_results),"
               " (SELECT count(*) FROM outbox)") == [(0, 0, 0)]
