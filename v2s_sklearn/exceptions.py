"""Errors and warnings of v2s-sklearn."""

from __future__ import annotations


class NonFiniteError(ValueError):
    """Training or prediction met NaN or infinite values.

    A ``ValueError``, so code that catches bad input keeps working; the
    message says where the values appeared and what to change.
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator is unpickled under another v2s-sklearn version than it was
    pickled with (as scikit-learn warns for its own estimators)."""
