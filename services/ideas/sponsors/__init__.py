"""Idea sponsors (Ideenpaten): a citizen, company or institution offers to accompany an idea or pilot;
staff accept; accepted sponsors are public on the idea, by name only with their consent."""
