"""The MiniRocket baseline the benchmark compares V2S with."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin


class MiniRocketRidge(ClassifierMixin, BaseEstimator):
    """MiniRocket features, scaled, into a ridge classifier with a CV-chosen penalty.

    The standard MiniRocket recipe (Dempster, Schmidt and Webb, 2021), the same
    pipeline sktime's ``RocketClassifier(rocket_transform="minirocket")`` builds,
    without sktime's per-call data-container conversions. The penalty is chosen
    by ``RidgeClassifierCV``'s leave-one-out on the training data only.

    Parameters
    ----------
    num_kernels : int, default=10000
        MiniRocket kernels (rounded down to a multiple of 84 by MiniRocket).
    max_dilations_per_kernel : int, default=32
        MiniRocket's dilation cap.
    random_state : int or None, default=None
        Seeds MiniRocket's bias quantiles.
    n_jobs : int, default=1
        numba threads of the transform.
    """

    def __init__(self, num_kernels: int = 10_000, max_dilations_per_kernel: int = 32,
                 random_state: int | None = None, n_jobs: int = 1) -> None:
        self.num_kernels = num_kernels
        self.max_dilations_per_kernel = max_dilations_per_kernel
        self.random_state = random_state
        self.n_jobs = n_jobs

    @staticmethod
    def _as_3d(X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim == 2:
            return X[:, None, :]
        if X.ndim != 3:
            raise ValueError(f"X must be 2-D (n_series, n_timepoints) or 3-D "
                             f"(n_series, n_channels, n_timepoints); got shape {X.shape}")
        return X

    def _features(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.transformer_.transform(X), dtype=np.float64)

    def fit(self, X: Any, y: Any) -> "MiniRocketRidge":
        """Fit the transform, the scaler and the ridge classifier on ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        y : array-like of shape (n_series,)

        Returns
        -------
        self : MiniRocketRidge
        """
        from sklearn.linear_model import RidgeClassifierCV
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from sktime.transformations.panel.rocket import MiniRocket, MiniRocketMultivariate

        X = self._as_3d(X)
        if X.shape[2] < 9:
            raise ValueError(f"MiniRocket needs series of at least 9 time points; "
                             f"got {X.shape[2]}")
        transform = MiniRocket if X.shape[1] == 1 else MiniRocketMultivariate
        self.transformer_ = transform(num_kernels=self.num_kernels,
                                      max_dilations_per_kernel=self.max_dilations_per_kernel,
                                      n_jobs=self.n_jobs, random_state=self.random_state)
        self.transformer_.fit(X)
        self.classifier_ = make_pipeline(StandardScaler(with_mean=False),
                                         RidgeClassifierCV(alphas=np.logspace(-3, 3, 10)))
        self.classifier_.fit(self._features(X), np.asarray(y))
        self.classes_ = self.classifier_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted class of each series.

        Returns
        -------
        ndarray of shape (n_series,)
        """
        return self.classifier_.predict(self._features(self._as_3d(X)))
