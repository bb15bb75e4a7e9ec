"""Errors a use case raises when a request cannot be carried out; the HTTP layer renders them."""


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message, fields=None, *, status=None, code=None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.status = status or self.status
        self.code = code or self.code


class NotFound(ServiceError):
    status, code = 404, "not_found"

    def __init__(self, what):
        super().__init__(f"{what} not found")


class Conflict(ServiceError):
    """The request is valid but the current state does not allow it (e.g. a workflow step)."""

    status, code = 409, "conflict"


class InvalidInput(ServiceError):
    """Well-formed input that names something that does not exist or does not fit."""

    status, code = 422, "validation_failed"


class Forbidden(ServiceError):
    """The caller's role fits, but this particular resource is not theirs (e.g. another board)."""

    status, code = 403, "forbidden"


class Unavailable(ServiceError):
    """A service this request depends on did not answer in time."""

    status, code = 503, "unavailable"
