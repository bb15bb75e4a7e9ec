"""Checks against the ideas service's reference data (municipalities, fields of action), shared by the
idea core and the strategy-process subpackages: a name that does not exist is a 422 naming the field."""
from shared.errors import InvalidInput


def require_field(repo, municipality, field):
    municipality_known, field_known = repo.reference_check(municipality, field)
    if not municipality_known:
        raise InvalidInput("unknown municipality", {"municipality": [f"unknown municipality {municipality!r}"]})
    if not field_known:
        raise InvalidInput("unknown field of action",
                           {"field_of_action": [f"{field!r} is not a field of action of {municipality}"]})


def require_municipality(repo, municipality):
    if not repo.municipality_exists(municipality):
        raise InvalidInput("unknown municipality", {"municipality": [f"unknown municipality {municipality!r}"]})
