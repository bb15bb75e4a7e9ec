"""Feedback in the ideas service: comments on published ideas, sub-concepts and the strategy draft,
with replies, moderation per municipality (pre or post) and abuse reports."""
