"""Meetings of the strategy process: theme evenings of the working groups and plenary meetings, with
registration under a cap, cancellation and iCalendar feeds."""
