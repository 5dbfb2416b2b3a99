"""The error every query check raises: a :class:`~crmcore.errors.ValidationError` of one problem."""

from __future__ import annotations

from crmcore.errors import Problem, ValidationError

__all__ = ["query_problem"]


def query_problem(code: str, where: str, message: str) -> ValidationError:
    """Return the ``ValidationError`` (subject ``Query``) of one coded problem at ``where``."""
    return ValidationError([Problem(code=code, path=where, message=message)], subject="Query")
