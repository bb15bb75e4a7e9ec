"""Demo data: results of the citizens' survey the Duale Hochschule Gera-Eisenach ran until the end of
March 2021 (source documents). The questions and counts are MADE UP for the demo, and say so in the
title: the real results are not public in the sources."""
SURVEY = {
    "municipality": "gera",
    "title": "Bürgerumfrage SMARTCity Gera 2021 (Demodaten, erfundene Zahlen)",
    "conducted_by": "Duale Hochschule Gera-Eisenach",
    "period_start": "2021-02-01",
    "period_end": "2021-03-31",
    "csv": "\n".join([
        "question,answer,count",
        "Kennen Sie das Projekt SMARTCity Gera?,ja,534",
        "Kennen Sie das Projekt SMARTCity Gera?,nein,318",
        "Wie oft nutzen Sie digitale Angebote der Stadtverwaltung?,mindestens monatlich,201",
        "Wie oft nutzen Sie digitale Angebote der Stadtverwaltung?,seltener,412",
        "Wie oft nutzen Sie digitale Angebote der Stadtverwaltung?,nie,239",
        "Welches Handlungsfeld ist Ihnen am wichtigsten?,Mobilität und Infrastruktur,247",
        "Welches Handlungsfeld ist Ihnen am wichtigsten?,\"Bauen, Wohnen und Lebensraum\",163",
        "Welches Handlungsfeld ist Ihnen am wichtigsten?,Energie,121",
        "Welches Handlungsfeld ist Ihnen am wichtigsten?,Umwelt,138",
        "Welches Handlungsfeld ist Ihnen am wichtigsten?,Wirtschaft und Innovationskraft,104",
        "Welches Handlungsfeld ist Ihnen am wichtigsten?,\"Tourismus, Kultur und Freizeit\",79",
        "Haben Sie an einem digitalen Themenabend teilgenommen?,ja,96",
        "Haben Sie an einem digitalen Themenabend teilgenommen?,nein,756",
    ]) + "\n",
}


def load(api):
    """Import the survey through the API as staff; `api` as in services/ideas/demo.py."""
    survey = api("ideas", "POST", "/api/v1/surveys", SURVEY, role="staff")
    return f"the survey of the Duale Hochschule Gera-Eisenach ({len(survey['rows'])} result rows, demo figures)"
