"""Who may call the ideas service's writes, by token role (admin passes every check, see shared.auth)."""

MODERATORS = ("moderator",)
STAFF = ("staff",)
