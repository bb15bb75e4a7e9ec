"""Citizens' surveys: the aggregate results (question, answer, count) staff import for a municipality and period."""
