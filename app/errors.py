"""User-facing errors.

Errors are classified before they are shown (architecture.md): a UserError
carries a Chinese message meant for the person at the keyboard; anything else
that escapes is a bug and is logged with its traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class UserError(Exception):
    """A problem the user can fix; its message is shown as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FieldError:
    field: str  # attribute name, so a form can put the message at the widget
    label: str  # Chinese label of the field
    message: str  # Chinese reason, already naming the field

    def __str__(self) -> str:
        return self.message


class ValidationError(UserError):
    """One or more fields are wrong; nothing was written."""

    def __init__(self, errors: list[FieldError] | FieldError):
        self.errors = [errors] if isinstance(errors, FieldError) else list(errors)
        super().__init__("；".join(e.message for e in self.errors))

    @classmethod
    def single(cls, field: str, label: str, message: str) -> "ValidationError":
        return cls(FieldError(field, label, message))


class RecordLocked(UserError):
    """A submitted record was changed without going through an amendment."""


class RetentionError(UserError):
    """Something was about to be deleted before its retention ended."""


class PermissionDenied(UserError):
    """The current user's role may not do this."""
