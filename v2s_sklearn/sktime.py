"""``V2STimeSeriesClassifier``: Voice2Series as a native sktime classifier.

The public path is ``from v2s_sklearn.sktime import V2STimeSeriesClassifier``.
The class adapts :class:`v2s_sklearn.V2SClassifier` to sktime's
``BaseClassifier``: sktime checks and converts the input (any ``Panel`` mtype),
this module pads unequal-length series, and an inner ``V2SClassifier`` does
the training and prediction.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import validate_parameter_constraints
from sktime.classification.base import BaseClassifier

from .classifier import V2SClassifier
from .params import document, make_init, parameter_constraints

__all__ = ["V2STimeSeriesClassifier", "pad_series"]


def _as_series_list(X: np.ndarray | list[pd.DataFrame]) -> list[np.ndarray]:
    """The series of an inner-mtype panel as a list of ``(n_channels, length)`` arrays.

    Parameters
    ----------
    X : ndarray of shape (n_series, n_channels, n_timepoints) or list of DataFrame
        sktime's ``numpy3D`` or ``df-list`` mtype (each DataFrame: rows are
        time points, columns are channels).

    Returns
    -------
    list of ndarray of shape (n_channels, length_i), float32
    """
    if isinstance(X, np.ndarray):
        return list(np.asarray(X, dtype=np.float32))
    return [np.asarray(frame.to_numpy(dtype=np.float64), dtype=np.float32).T for frame in X]


class _PaddedV2SClassifier(V2SClassifier):
    """The adapter's inner estimator: NaN in X marks padding.

    Padding is left out of the input scaling's statistics and placed as
    zeros after scaling (:func:`v2s_sklearn.scaling.scale_series`), so the
    tail of a short series stays silent whatever ``input_scaling`` does.
    """

    nan_marks_padding = True


def pad_series(series: list[np.ndarray], length: int,
               fill_value: float = 0.0) -> tuple[np.ndarray, int]:
    """Pad (or truncate) each series to ``length`` time points.

    Each channel keeps its values from its first time point; the time points
    after its own length are ``fill_value``, so a channel occupies its own
    length of its slot in the acoustic model's input and the rest of the slot
    is silence.

    Parameters
    ----------
    series : list of ndarray of shape (n_channels, length_i)
        Series with the same number of channels.
    length : int
        Time points of the result.
    fill_value : float, default=0.0
        What pads; the adapter pads with NaN, which its inner estimator places
        as zeros after input scaling.

    Returns
    -------
    padded : ndarray of shape (n_series, n_channels, length), float32
    n_truncated : int
        How many series were longer than ``length`` and lost their tail.
    """
    n_channels = series[0].shape[0]
    padded = np.full((len(series), n_channels, length), fill_value, dtype=np.float32)
    n_truncated = 0
    for i, values in enumerate(series):
        kept = min(values.shape[1], length)
        n_truncated += values.shape[1] > length
        padded[i, :, :kept] = values[:, :kept]
    return padded, n_truncated


class V2STimeSeriesClassifier(BaseClassifier):
    """Voice2Series reprogramming of a frozen acoustic model, as an sktime classifier.

    Each series is zero-padded into the one-second input of a frozen
    speech-command model (``n_segments`` copies at equal spacing; the channels
    of a multivariate series lie back to back inside each copy), a trainable
    signal ``theta`` is added, and a many-to-one label map averages the
    probabilities of several source words into each class. Only ``theta`` is
    trained (Yang, Tsai and Chen, ICML 2021). The work is done by an inner
    :class:`v2s_sklearn.V2SClassifier` with the same parameters; this class
    adds sktime's input handling (any ``Panel`` mtype) and unequal-length
    series.

    Unequal-length series are zero-padded at the end to the longest training
    length, ``series_length_``: every channel of a series starts at the start
    of its slot and the rest of the slot is zeros. The padding stays zero
    (silence) after input scaling, and is left out of the scaling's
    statistics. At prediction, shorter series are padded the same way; longer series are truncated to
    ``series_length_`` with a ``UserWarning`` (their tail is dropped), because
    the slots, and so ``theta``, are fixed by the fit.

    Parameters
    ----------
    %(parameters)s

    Attributes
    ----------
    estimator_ : V2SClassifier
        The fitted inner estimator (a subclass that reads NaN as padding);
        ``estimator_.history_``, ``estimator_.theta_`` and
        ``estimator_.label_map_`` describe the fit.
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted (set by sktime's ``fit``).
    n_channels_ : int
        Channels per series seen in ``fit``.
    series_length_ : int
        Longest training series; every series is padded (or truncated) to it.
    min_series_length_ : int
        Shortest training series.

    See Also
    --------
    v2s_sklearn.V2SClassifier : the scikit-learn estimator this class wraps.

    Notes
    -----
    Multivariate series with ``n_channels * series_length_ * n_segments``
    above the acoustic model's input length (16,000 samples for the built-in
    model) raise a ``ValueError`` in ``fit`` that names the largest
    ``n_segments`` that fits. Missing values are not supported (sktime raises
    a ``ValueError`` before ``fit``). ``docs/sktime.md`` has the measured
    accuracies.

    Examples
    --------
    >>> from sktime.datasets import load_basic_motions
    >>> from v2s_sklearn.sktime import V2STimeSeriesClassifier
    >>> X_train, y_train = load_basic_motions(split="train", return_type="numpy3D")
    >>> X_test, y_test = load_basic_motions(split="test", return_type="numpy3D")
    >>> clf = V2STimeSeriesClassifier(max_epochs=2, batch_size=64,
    ...                               validation_fraction=0, random_state=0)
    >>> clf = clf.fit(X_train[::4], y_train[::4])  # 10 series, 6 channels
    >>> clf.predict(X_test[:3]).shape
    (3,)
    >>> clf.predict_proba(X_test[:3]).shape
    (3, 4)

    Unequal-length multivariate series, in sktime's nested DataFrame format:

    >>> from sktime.datasets import load_japanese_vowels
    >>> X, y = load_japanese_vowels(split="train")
    >>> clf = clf.fit(X.iloc[::27], y[::27])
    >>> clf.n_channels_, clf.series_length_
    (12, 20)
    """

    _tags = {
        # packaging info
        "authors": ["v2s-sklearn developers"],
        "maintainers": ["v2s-sklearn developers"],
        "python_dependencies": ["torch", "torchaudio"],
        # estimator type: df-list first, so that unequal-length panels in any
        # mtype are converted to a list of DataFrames; numpy3D input (equal
        # length) is passed through without conversion.
        "X_inner_mtype": ["df-list", "numpy3D"],
        "y_inner_mtype": "numpy1D",
        "capability:multivariate": True,
        "capability:unequal_length": True,
        "capability:missing_values": False,
        "capability:predict_proba": True,
        "capability:categorical_in_X": False,
        "capability:multithreading": False,
        "capability:random_state": True,
        "property:randomness": "derandomized",
    }

    # The parameters of V2SClassifier, from the same definition (v2s_sklearn.params).
    __init__ = make_init(then=BaseClassifier.__init__)

    # ------------------------------------------------------------------ helpers
    def _custom_inner_params(self) -> dict[str, Any]:
        """The parameters of the inner ``V2SClassifier`` (all of ours, verbatim),
        validated here so that errors name this class."""
        params = self.get_params(deep=False)
        validate_parameter_constraints(parameter_constraints(), params,
                                       caller_name=type(self).__name__)
        return params

    @staticmethod
    def _custom_check_finite(series: list[np.ndarray]) -> None:
        for i, values in enumerate(series):
            if not np.isfinite(values).all():
                raise ValueError(
                    f"series {i} holds NaN or infinite values; V2STimeSeriesClassifier "
                    "does not handle missing values: impute them (e.g. with sktime's "
                    "Imputer) or drop those series.")

    # -------------------------------------------------------------- sktime API
    def _fit(self, X: np.ndarray | list[pd.DataFrame], y: np.ndarray
             ) -> "V2STimeSeriesClassifier":
        """Pad the training series to the longest one and fit the inner estimator.

        Parameters
        ----------
        X : ndarray of shape (n_series, n_channels, n_timepoints) or list of DataFrame
            Training series (sktime's ``numpy3D`` or ``df-list`` mtype).
        y : ndarray of shape (n_series,)
            Class labels.

        Returns
        -------
        self : V2STimeSeriesClassifier
        """
        series = _as_series_list(X)
        self._custom_check_finite(series)
        lengths = np.array([values.shape[1] for values in series])
        self.n_channels_ = int(series[0].shape[0])
        self.series_length_ = int(lengths.max())
        self.min_series_length_ = int(lengths.min())
        padded, _ = pad_series(series, self.series_length_, fill_value=np.nan)
        self.estimator_ = _PaddedV2SClassifier(**self._custom_inner_params())
        self.estimator_.fit(padded, np.asarray(y))
        return self

    def _custom_transform(self, X: np.ndarray | list[pd.DataFrame]) -> np.ndarray:
        """Series at prediction, checked, padded or truncated to ``series_length_``."""
        series = _as_series_list(X)
        channels = {values.shape[0] for values in series}
        if channels != {self.n_channels_}:
            raise ValueError(
                f"X has series with {sorted(channels)} channel(s), but "
                f"{type(self).__name__} was fitted on {self.n_channels_}-channel series; "
                "pass series with the channels seen in fit.")
        self._custom_check_finite(series)
        padded, n_truncated = pad_series(series, self.series_length_, fill_value=np.nan)
        if n_truncated:
            warnings.warn(
                f"{n_truncated} of {len(series)} series are longer than the longest "
                f"training series ({self.series_length_} time points) and were truncated "
                f"to it; to use their full length, refit on training data that holds a "
                f"series at least as long, or resample the series.",
                UserWarning, stacklevel=4)
        return padded

    def _predict(self, X: np.ndarray | list[pd.DataFrame]) -> np.ndarray:
        """Most probable class of each series.

        Parameters
        ----------
        X : ndarray of shape (n_series, n_channels, n_timepoints) or list of DataFrame

        Returns
        -------
        ndarray of shape (n_series,)
        """
        return self.estimator_.predict(self._custom_transform(X))

    def _predict_proba(self, X: np.ndarray | list[pd.DataFrame]) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order, rows summing to one.

        Parameters
        ----------
        X : ndarray of shape (n_series, n_channels, n_timepoints) or list of DataFrame

        Returns
        -------
        ndarray of shape (n_series, n_classes)
        """
        return self.estimator_.predict_proba(self._custom_transform(X))

    @classmethod
    def get_test_params(cls, parameter_set: str = "default") -> list[dict[str, Any]]:
        """Return testing parameter settings for the estimator.

        Both sets use the built-in acoustic model with one or two epochs on
        the CPU and one fit (no input-scaling candidates): small settings,
        real parts.

        Parameters
        ----------
        parameter_set : str, default="default"
            Name of the set of test parameters; all names return the same sets.

        Returns
        -------
        params : list of dict
            Parameters to create testing instances of the class.
        """
        # input_scaling=None: one fit per check rather than the two of "auto",
        # which V2SClassifier's own tests cover.
        fast = {"batch_size": 64, "validation_fraction": 0.0, "input_scaling": None,
                "random_state": 0, "device": "cpu"}
        return [
            {"max_epochs": 1, "n_segments": 1, "label_mapping": "random", **fast},
            {"max_epochs": 2, "n_segments": 2, "label_mapping": "ot", "dropout": 0.2,
             **fast},
        ]


V2STimeSeriesClassifier.__doc__ = document(V2STimeSeriesClassifier.__doc__)
