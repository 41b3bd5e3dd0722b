"""Input validation of ``V2SClassifier``: series, labels and the parameters that need more
than ``_parameter_constraints`` (device, optimizer, segments), with errors that say what to do.

Series arrive as 2-D arrays ``(n_series, n_timepoints)``, DataFrames (rows are
series) or 3-D arrays ``(n_series, n_channels, n_timepoints)``; they leave as
float32 arrays ``(n_series, n_channels, n_timepoints)``. scikit-learn's
``validate_data`` does the checks it owns (finite values, feature names,
``n_features_in_``) on the flattened series.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .exceptions import warn_at_caller

MAX_AUTO_SEGMENTS = 10
#: Largest magnitudes of series placed as given that the source model can use.
AUDIBLE = (1e-5, 1e5)
#: Optimizers named by ``optimizer=``; a ``torch.optim.Optimizer`` subclass works too.
OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
#: What labels may be, said in every label error.
LABEL_TYPES = ("labels must be all strings, all integers or all booleans (one type "
               "throughout), e.g. y.astype(str)")


def check_series(estimator: Any, X: Any, y: Any = None, *, fitting: bool = False,
                 allow_nan: bool = False) -> Any:
    """Validate ``X`` (and ``y`` when fitting) for ``estimator``.

    Parameters
    ----------
    estimator : V2SClassifier
        Receives ``n_features_in_`` (and ``feature_names_in_``) when fitting;
        at prediction its ``n_channels_`` and ``n_timepoints_`` are checked.
    X : array-like
    y : array-like or None
    fitting : bool, default=False
    allow_nan : bool, default=False
        NaN marks padding (the sktime adapter's unequal-length series).

    Returns
    -------
    X : ndarray of shape (n_series, n_channels, n_timepoints), float32
        With ``y`` when fitting.
    """
    if isinstance(X, (list, tuple)):
        X = np.asarray(X)
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) > 3:
        raise ValueError(
            f"X has {len(shape)} dimensions {tuple(shape)}; pass 2-D (n_series, "
            "n_timepoints) or 3-D (n_series, n_channels, n_timepoints) series.")
    name = type(estimator).__name__
    if shape is not None and len(shape) == 3:
        if not fitting:
            _check_series_shape(estimator, shape)
        channels, length = shape[1:]
        X = np.asarray(X).reshape(shape[0], -1)
    else:
        channels, length = 1, None
        if not fitting and estimator.n_channels_ > 1:
            raise ValueError(
                f"{name} was fitted on {estimator.n_channels_}-channel series: pass a 3-D "
                f"array (n_series, {estimator.n_channels_}, {estimator.n_timepoints_}).")
    kwargs = dict(dtype=(np.float64, np.float32),
                  ensure_all_finite="allow-nan" if allow_nan else True)
    if fitting:
        X, y = validate_data(estimator, X, check_labels(y), reset=True, **kwargs)
    else:
        try:
            X = validate_data(estimator, X, reset=False, **kwargs)
        except ValueError as error:
            if "features, but" not in str(error):
                raise
            raise ValueError(
                f"{error} Series must have the length seen in fit "
                f"({estimator.n_timepoints_} time points): resample or pad them, "
                "or refit.") from error
    with np.errstate(over="ignore"):
        X = np.array(X, dtype=np.float32).reshape(len(X), channels, length or X.shape[1])
    if np.isinf(X).any():
        raise ValueError(
            "X holds values beyond float32's range (about 3.4e38), which the acoustic "
            "model computes in: rescale the series (e.g. divide them by their largest "
            "magnitude).")
    return (X, y) if fitting else X


def check_labels(y: Any) -> np.ndarray:
    """``y`` as a 1-D array of class labels of one type, or an error naming the types that work."""
    if y is None:
        raise ValueError("fit requires y to be passed, but the target y is None: pass a "
                         f"label per series ({LABEL_TYPES}).")
    y = np.asarray(y)
    if y.dtype == object:
        values = y.ravel()
        if any(value is None for value in values):
            raise ValueError(f"y holds None; {LABEL_TYPES}, with a label for every series.")
        kinds = {"string" if isinstance(v, str) else "number"
                 if isinstance(v, numbers.Number) else type(v).__name__ for v in values}
        if len(kinds) > 1:
            raise ValueError(f"y mixes {' and '.join(sorted(kinds))} labels; {LABEL_TYPES}.")
    check_classification_targets(y)
    return y


def _check_series_shape(estimator: Any, shape: tuple[int, ...]) -> None:
    """A 3-D X at prediction must have the channels and length seen in fit."""
    name = type(estimator).__name__
    if shape[1] != estimator.n_channels_:
        raise ValueError(f"X has {shape[1]} channels, but {name} was fitted on "
                         f"{estimator.n_channels_}; pass series with the channels seen in fit")
    if shape[2] != estimator.n_timepoints_:
        raise ValueError(f"X has series of length {shape[2]}, but {name} was fitted "
                         f"on length {estimator.n_timepoints_}: resample or pad them, "
                         "or refit.")


def resolve_n_segments(n_segments: int | str, input_length: int, series_values: int) -> int:
    """``"auto"``: as many copies as fit into the input, at most ``MAX_AUTO_SEGMENTS``."""
    if n_segments != "auto":
        return int(n_segments)
    return max(1, min(MAX_AUTO_SEGMENTS, input_length // series_values))


def resolve_device(device: str | torch.device, *, fitted: bool = False) -> torch.device:
    """``"auto"`` means CUDA when available. A fitted model asked for a missing
    GPU falls back to the CPU with a warning, so a model fitted on a GPU still
    predicts on a CPU-only machine."""
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device={device!r} is not a torch device ({error}); use 'auto', "
                         "'cpu' or 'cuda'") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        if fitted:
            warn_at_caller(f"the model was fitted on {device!r} but CUDA is not available; "
                           "using the CPU", RuntimeWarning)
            return torch.device("cpu")
        raise ValueError(f"device={device!r} but CUDA is not available (torch sees no "
                         "CUDA GPU on this machine); use device='cpu' or 'auto'")
    return resolved


def check_optimizer(optimizer: str | type, weight_decay: float,
                    params: dict[str, Any] | None) -> tuple[type, dict[str, Any]]:
    """The optimizer class and the options it takes, or a ValueError before training."""
    kind = OPTIMIZERS.get(optimizer, optimizer) if isinstance(optimizer, str) else optimizer
    if not (isinstance(kind, type) and issubclass(kind, torch.optim.Optimizer)):
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)} or a "
                         f"torch.optim.Optimizer subclass; got {optimizer!r}")
    closure = inspect.signature(kind.step).parameters.get("closure")
    if closure is not None and closure.default is inspect.Parameter.empty:
        raise ValueError(f"optimizer {kind.__name__} needs a closure that re-evaluates the "
                         "loss at every step, which minibatch training does not give; use "
                         "'adam', 'adamw', 'sgd' or another first-order optimizer.")
    accepted = inspect.signature(kind.__init__).parameters
    options = dict(params or {})
    if "weight_decay" in accepted:
        options.setdefault("weight_decay", weight_decay)
    elif weight_decay:
        raise ValueError(f"optimizer {kind.__name__} takes no weight_decay; leave "
                         f"weight_decay at 0 (it is {weight_decay}) or pick another optimizer.")
    unknown = sorted(set(options) - set(accepted))
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        raise ValueError(f"optimizer {kind.__name__} takes no {unknown}; it takes "
                         f"{sorted(set(accepted) - {'self', 'params'})}")
    return kind, options


def split_validation(y: np.ndarray, fraction: float, seed: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/validation rows; no validation rows when the split cannot be made."""
    index = np.arange(len(y))
    if fraction == 0:
        return index, index[:0]
    try:
        train_rows, valid_rows = train_test_split(index, test_size=fraction, stratify=y,
                                                  random_state=seed)
    except ValueError as error:
        warn_at_caller(
            f"no stratified validation split of validation_fraction={fraction} fits "
            f"{len(y)} series ({error}); training on all of them and keeping the epoch of "
            "lowest training loss. Set validation_fraction=0 to silence this.", UserWarning)
        return index, index[:0]
    return np.sort(train_rows), np.sort(valid_rows)


def append_validation(estimator: Any, X: np.ndarray, y: np.ndarray, X_val: Any, y_val: Any
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Given validation series appended to the training ones, and the rows of each.

    ``y`` is encoded; ``y_val`` holds labels among ``estimator.classes_``.
    """
    if X_val is None or y_val is None:
        raise ValueError("X_val and y_val go together: pass both or neither")
    if len(X_val) == 0:
        raise ValueError("X_val holds no series; pass None to use validation_fraction")
    try:
        X_val = check_series(estimator, X_val,
                             allow_nan=estimator.__sklearn_tags__().input_tags.allow_nan)
    except ValueError as error:
        raise ValueError(f"X_val does not match X: {error}") from error
    y_val = np.asarray(y_val)
    if y_val.ndim != 1 or len(y_val) != len(X_val):
        raise ValueError(f"y_val must be 1-D with one label per series of X_val "
                         f"({len(X_val)}); got shape {y_val.shape}")
    unknown = np.setdiff1d(y_val, estimator.classes_)
    if len(unknown):
        raise ValueError(f"y_val holds labels that y does not: {unknown.tolist()} "
                         f"(classes of y: {estimator.classes_.tolist()})")
    rows = np.arange(len(y) + len(y_val))
    return (np.concatenate([X, X_val]),
            np.concatenate([y, np.searchsorted(estimator.classes_, y_val)]),
            rows[:len(y)], rows[len(y):])


def check_loudness(X: np.ndarray, learning_rate: float) -> None:
    """Warn when series placed as given are too quiet or too loud for theta to matter."""
    largest = float(np.nanmax(np.abs(X))) if X.size else 0.0
    quiet, loud = AUDIBLE
    if 0 < largest < quiet:
        warn_at_caller(
            f"the series' largest magnitude is {largest:.3g}: placed as given "
            "(input_scaling=None) they are silence to the source model, which then "
            "predicts from theta alone. Use input_scaling='standard' or rescale X.",
            UserWarning)
    elif largest > loud:
        warn_at_caller(
            f"the series' largest magnitude is {largest:.3g}: placed as given "
            "(input_scaling=None) they drown theta, which starts at zero and moves by "
            f"about learning_rate={learning_rate:g} per step. Use input_scaling='standard' "
            "or rescale X.", UserWarning)
