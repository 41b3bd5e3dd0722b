"""Errors and warnings of v2s-sklearn."""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

#: Frames in files under this folder are the package's own, not the user's.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class NonFiniteError(ValueError):
    """Training or prediction met NaN or infinite values.

    A ``ValueError``, so code that catches bad input keeps working; the
    message says where the values appeared and what to change.
    """


class InconsistentVersionWarning(UserWarning):
    """An estimator is unpickled under another v2s-sklearn version than it was
    pickled with (as scikit-learn warns for its own estimators)."""


def non_finite_message(what: str, X: Any, acoustic_model: Any,
                       learning_rate: float | None = None) -> str:
    """``what`` went non-finite, and what to change: the message of a :class:`NonFiniteError`.

    Parameters
    ----------
    what : str
        Where the values appeared.
    X : array-like or torch.Tensor
        The series involved, for their largest magnitude.
    acoustic_model : str, path or torch.nn.Module
        The source model as the user gave it.
    learning_rate : float or None
        The step size in force, when training met the values.
    """
    largest = float(abs(X).max()) if len(X) else 0.0
    label = (type(acoustic_model).__name__ if hasattr(acoustic_model, "forward")
             else repr(str(acoustic_model)))
    advice = [f"check that the acoustic model ({label}) returns finite logits",
              f"scale the series (their largest magnitude is {largest:.3g}; "
              "try input_scaling='standard')"]
    if learning_rate is not None:
        advice.append(f"lower learning_rate (now {learning_rate:g})")
    return f"{what}: {'; '.join(advice)}."


def warn_at_caller(message: str, category: type[Warning]) -> None:
    """Warn with the user's line as the location: the first frame outside
    v2s-sklearn and scikit-learn's ``_fit_context`` wrapper."""
    frame, level = sys._getframe(1), 2
    while frame is not None and (frame.f_code.co_filename.startswith(_PACKAGE_DIR)
                                 or _is_sklearn_wrapper(frame)):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


def _is_sklearn_wrapper(frame: Any) -> bool:
    filename = frame.f_code.co_filename.replace(os.sep, "/")
    return filename.endswith("sklearn/base.py") and frame.f_code.co_name == "wrapper"
