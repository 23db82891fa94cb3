"""The one exception family that stages and commands report as a one-line `error:`."""

from __future__ import annotations


class UserError(Exception):
    """Bad input or settings the user can fix; the message says what and where."""


class ParamsError(UserError, ValueError):
    """A params.yaml value is missing, misspelled, of the wrong type or out of range."""
