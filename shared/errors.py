"""Why a use case refused: plain domain exceptions, with no HTTP in them.

Each edge renders them its own way: `shared.web.ERROR_STATUS` maps each class to an HTTP status
and code; over RPC they travel by class name and `shared.rpc` raises the same class again.
`fields` names what was wrong (field name -> list of messages), for the caller to show.
"""


class DomainError(Exception):
    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(DomainError):
    def __init__(self, what):
        super().__init__(f"{what} not found")


class Conflict(DomainError):
    """The request is valid but the current state does not allow it (e.g. a workflow step)."""


class InvalidInput(DomainError):
    """Well-formed input that names something that does not exist or does not fit."""


class Unauthorized(DomainError):
    """The credential the request carries (a link token, say) is missing or not valid."""


class Forbidden(DomainError):
    """The caller's role fits, but this particular resource is not theirs (e.g. another board)."""


class Gone(DomainError):
    """The thing existed but is no more (an expired confirmation link)."""


class Unavailable(DomainError):
    """A service this request depends on did not answer in time."""


# Every class a use case may raise, by name: how RPC callers raise the same error again.
BY_NAME = {cls.__name__: cls for cls in (NotFound, Conflict, InvalidInput, Unauthorized, Forbidden, Gone,
                                         Unavailable)}


def found(thing, what):
    """`thing` itself, or NotFound(what) when it is None: for a lookup that must find something."""
    if thing is None:
        raise NotFound(what)
    return thing
