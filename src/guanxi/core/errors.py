"""Domain errors: raised by services, mapped to form errors in the web and to JSON in the API.

Each carries a stable machine-readable `code` and, where one field is at fault, its name.
"""

from dataclasses import dataclass

from django.db import OperationalError


@dataclass
class FieldError:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "code": self.code, "message": str(self.message)}


class DomainError(Exception):
    def __init__(
        self,
        message: str,
        code: str = "invalid",
        field: str | None = None,
        status: int = 400,
        errors: list[FieldError] | None = None,
    ):
        super().__init__(message)
        self.message, self.code, self.field, self.status = message, code, field, status
        self.errors = errors or []

    def __str__(self) -> str:
        return str(self.message)

    def as_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message), "field": self.field}
        if self.errors:
            body["errors"] = [e.as_dict() for e in self.errors]
        return body


class ValidationFailed(DomainError):
    def __init__(self, errors: list[FieldError]):
        first = errors[0]
        super().__init__(
            message=first.message, code=first.code, field=first.field, status=422, errors=errors
        )

    @classmethod
    def single(cls, field_name: str, code: str, message: str) -> "ValidationFailed":
        return cls([FieldError(field_name, code, message)])


class Forbidden(DomainError):
    def __init__(self, message: str, code: str = "forbidden"):
        super().__init__(message=message, code=code, status=403)


class NotFound(DomainError):
    def __init__(self, message: str, code: str = "not_found"):
        super().__init__(message=message, code=code, status=404)


class Conflict(DomainError):
    def __init__(self, message: str, code: str = "conflict", field: str | None = None):
        super().__init__(message=message, code=code, field=field, status=409)


BUSY_SQLSTATES = {"55P03", "40P01", "40001"}
"""PostgreSQL's lock-not-available, deadlock and serialization failures: a retry succeeds."""

RETRY_AFTER_SECONDS = 2


def database_busy(exc: BaseException) -> bool:
    """Whether a database error means "others hold the lock; try again in a moment".

    SQLite reports a write lock held past the busy timeout as "database is locked"; such a
    save is not a fault of the server's code, and the user should hear it is busy (a 503),
    not see a 500.
    """
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if getattr(cause, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text


SHOWN_ON_PAGE = (ValidationFailed, Forbidden, Conflict)
"""The domain errors a web view shows beside its form or as a message; NotFound is left to
DomainErrorMiddleware, the one mapping to the 404 page."""


def full_clean_or_fail(instance, exclude: list[str] | None = None) -> None:
    """Run the model's own validation; report Django's errors as one ValidationFailed."""
    from django.core.exceptions import ValidationError

    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(
            [
                FieldError(name, err.code or "invalid", str(err.message % (err.params or {})))
                for name, errs in exc.error_dict.items()
                for err in errs
            ]
        ) from exc
