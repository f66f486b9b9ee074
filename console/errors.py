"""Errors a user can cause. Each carries a message fit to show as-is; bugs raise ordinary exceptions."""

from __future__ import annotations


class ConsoleError(Exception):
    """Base for every error with a message meant for the user."""

    exit_code = 1


class ValidationError(ConsoleError):
    """Input that breaks a rule; nothing was changed."""

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(ConsoleError):
    """The record asked for does not exist."""


class PermissionDenied(ConsoleError):
    """The signed-in person's role does not allow this."""


class Conflict(ConsoleError):
    """Someone else changed the record first; the caller should show the current state."""


class AuthenticationFailed(ConsoleError):
    """Wrong username or password, or too many recent failures."""

    def __init__(self, message: str, *, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DatabaseUnavailable(ConsoleError):
    """The database cannot be reached, opened or written; nothing was changed."""


class DatabaseTooNew(ConsoleError):
    """The database was written by a newer version of the app; it is left untouched."""
