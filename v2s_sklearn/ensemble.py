"""Soft-voting ensembles of V2S classifiers: over seeds, source models or folds.

One V2S fit depends on its seed through the validation split that picks the
kept epoch and the order of the batches; on small training sets that moves
held-out accuracy by several points. Averaging the probabilities of a few
seeds removes much of that variance (:func:`seed_ensemble`). Source models of
different architectures err differently, so averaging them
(:func:`source_ensemble`) removes some of what seeds of one model share.
scikit-learn's :class:`~sklearn.ensemble.VotingClassifier` does that
averaging; this module only builds it.

A single fit trains on 90% of the series and picks its epoch on the other
10%, a handful of series on small datasets. :class:`CVEnsembleClassifier`
trains one member per fold of a stratified k-fold split, each early-stopped
on its own fold, so every series serves both training and selection.
``docs/estimator.md`` has the TRAIN-only studies of all three.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.ensemble import VotingClassifier
from sklearn.model_selection import StratifiedKFold
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_consistent_length, check_is_fitted, column_or_1d

from .acoustic.registry import available_models
from .classifier import V2SClassifier

#: The built-in source models of three architectures (V2Sa, TC-ResNet8, TC-ResNet14).
ARCHITECTURE_MODELS = ("v2sa-synth", "tcresnet8-synth", "tcresnet14-synth")


def seed_ensemble(n_members: int = 3, *, random_state: int | None = 0,
                  n_jobs: int | None = None, **params: Any) -> VotingClassifier:
    """A soft-voting ensemble of ``V2SClassifier`` with seeds ``random_state + i``.

    Parameters
    ----------
    n_members : int, default=3
        How many classifiers; fitting costs that many single fits.
    random_state : int or None, default=0
        Member ``i`` gets ``random_state + i`` (so the first member is
        ``V2SClassifier(random_state=random_state)``); None leaves every member
        unseeded, which makes the ensemble irreproducible.
    n_jobs : int or None, default=None
        Members fitted in parallel (``VotingClassifier``'s). On a small CPU one
        process that uses all cores is faster; several processes can share a GPU.
    **params
        Any other ``V2SClassifier`` parameter, given to every member.

    Returns
    -------
    sklearn.ensemble.VotingClassifier
        Unfitted, ``voting="soft"``: ``predict_proba`` is the members' mean.

    Examples
    --------
    >>> from v2s_sklearn.ensemble import seed_ensemble
    >>> clf = seed_ensemble(3, max_epochs=50)
    >>> [name for name, _ in clf.estimators]
    ['seed0', 'seed1', 'seed2']
    """
    if not isinstance(n_members, numbers.Integral) or isinstance(n_members, bool) \
            or n_members < 1:
        raise ValueError(f"n_members must be a positive integer; got {n_members!r}")
    if random_state is not None and not isinstance(random_state, numbers.Integral):
        raise ValueError("random_state must be an int or None (members get "
                         f"random_state + i); got {random_state!r}")
    members = [(f"seed{i}", V2SClassifier(
        random_state=None if random_state is None else int(random_state) + i, **params))
        for i in range(int(n_members))]
    return VotingClassifier(members, voting="soft", n_jobs=n_jobs)


def source_ensemble(acoustic_models: tuple[str, ...] | list[str] = ARCHITECTURE_MODELS, *,
                    random_state: int | None = 0, n_jobs: int | None = None,
                    **params: Any) -> VotingClassifier:
    """A soft-voting ensemble of ``V2SClassifier`` over several source models.

    Every member has the same parameters and seed; only ``acoustic_model``
    differs. Fitting costs the sum of the members' fits (a TC-ResNet fit costs
    about a third of a V2Sa fit on the CPU, ``docs/benchmarks.md``).

    Parameters
    ----------
    acoustic_models : sequence of str, default=ARCHITECTURE_MODELS
        Built-in names or model files, one member each, at least two.
    random_state : int or None, default=0
        The seed of every member.
    n_jobs : int or None, default=None
        Members fitted in parallel (``VotingClassifier``'s).
    **params
        Any other ``V2SClassifier`` parameter, given to every member.

    Returns
    -------
    sklearn.ensemble.VotingClassifier
        Unfitted, ``voting="soft"``; member names are the model names.

    Examples
    --------
    >>> from v2s_sklearn.ensemble import source_ensemble
    >>> clf = source_ensemble(max_epochs=50)
    >>> [name for name, _ in clf.estimators]
    ['v2sa-synth', 'tcresnet8-synth', 'tcresnet14-synth']
    """
    if "acoustic_model" in params:
        raise ValueError("source_ensemble sets acoustic_model per member; pass the models "
                         "as acoustic_models=[...]")
    models = [str(model) for model in acoustic_models]
    if len(models) < 2 or len(set(models)) < len(models):
        raise ValueError(f"acoustic_models needs at least two different models; got {models} "
                         f"(built-in: {available_models()})")
    members = [(model, V2SClassifier(acoustic_model=model, random_state=random_state,
                                     **params)) for model in models]
    return VotingClassifier(members, voting="soft", n_jobs=n_jobs)


class CVEnsembleClassifier(ClassifierMixin, BaseEstimator):
    """Cross-validated ensemble: one V2S fit per fold, early-stopped on that fold.

    The training series are cut into ``n_splits`` stratified folds. Member
    ``i`` trains on all folds but fold ``i`` and picks its kept epoch (and
    input scaling, and when to stop) on fold ``i``, through
    ``fit(X, y, X_val=..., y_val=...)``; prediction averages the members'
    probabilities. Each member trains on ``(k - 1) / k`` of the series
    instead of a single fit's 90%, and every series is used for selection by
    one member, rather than the 10% of one split. Fitting costs ``n_splits``
    fits, each on fewer series.

    Parameters
    ----------
    estimator : estimator or None, default=None
        The member to clone; its ``fit`` must take ``X_val`` and ``y_val``
        (:class:`~v2s_sklearn.V2SClassifier` does). None means
        ``V2SClassifier()``.
    n_splits : int, default=5
        Folds, and members. Every class needs at least two series (so that
        each member trains on every class); a class with fewer than
        ``n_splits`` series leaves some validation folds without it, which
        scikit-learn's ``StratifiedKFold`` warns about.
    random_state : int, RandomState instance or None, default=0
        Seeds the folds; member ``i`` gets ``random_state=seed + i``, so
        members also differ in batch order and label-map ties.
    n_jobs : int or None, default=None
        Members fitted in parallel by joblib. On a small CPU one process that
        uses all cores is faster; several processes can share a GPU.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members, one per fold.
    folds_ : list of (ndarray, ndarray)
        Each member's training and validation row indices into ``X``.
    classes_ : ndarray of shape (n_classes,)
        Class labels, sorted.
    n_features_in_ : int
        Values per series seen in ``fit``.
    validation_scores_ : ndarray of shape (n_splits,) or None
        Each member's ``best_validation_score_``: accuracy of its kept epoch on
        its own fold; None when the members do not report it.
    oof_score_ : float or None
        Accuracy of the members' kept epochs on their folds, over all series
        (each series counted once): an out-of-fold estimate that is slightly
        optimistic, because each fold also chose its member's epoch.

    See Also
    --------
    seed_ensemble : members on one split with different seeds.

    Examples
    --------
    >>> from v2s_sklearn import V2SClassifier
    >>> from v2s_sklearn.ensemble import CVEnsembleClassifier
    >>> clf = CVEnsembleClassifier(V2SClassifier(max_epochs=50), n_splits=3)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_splits": [Interval(numbers.Integral, 2, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [numbers.Integral, None],
    }

    def __init__(self, estimator: Any = None, *, n_splits: int = 5,
                 random_state: int | np.random.RandomState | None = 0,
                 n_jobs: int | None = None):
        self.estimator = estimator
        self.n_splits = n_splits
        self.random_state = random_state
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X: Any, y: Any) -> "CVEnsembleClassifier":
        """Fit one member per fold.

        Parameters
        ----------
        X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
            Training series.
        y : array-like of shape (n_series,)
            Class labels.

        Returns
        -------
        self : CVEnsembleClassifier

        Raises
        ------
        ValueError
            When a class has fewer than two series, or ``n_splits`` exceeds
            the series of the largest class.
        TypeError
            When the estimator's ``fit`` takes no ``X_val`` and ``y_val``.
        """
        base = self._base_estimator()
        X, y = self._check_X_y(X, y)
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise ValueError(f"{type(self).__name__} needs at least two classes to fit; "
                             f"y holds 1 class ({classes[0]!r}).")
        if counts.min() < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least two series of every class, so that "
                f"each member trains on all classes; class {classes[counts.argmin()]!r} "
                "has 1")
        if self.n_splits > counts.max():
            raise ValueError(f"n_splits={self.n_splits} exceeds the {counts.max()} series of "
                             "the largest class; use fewer folds")
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        splitter = StratifiedKFold(self.n_splits, shuffle=True, random_state=seed)
        self.folds_ = list(splitter.split(np.zeros((len(y), 1)), y))
        members = [clone(base).set_params(random_state=seed + i)
                   for i in range(self.n_splits)]
        self.estimators_ = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(member, X, y, train, valid)
            for member, (train, valid) in zip(members, self.folds_))
        first = self.estimators_[0]
        self.classes_ = first.classes_  # every member trained on every class (checked above)
        if hasattr(first, "n_features_in_"):
            self.n_features_in_ = first.n_features_in_
        if hasattr(first, "feature_names_in_"):
            self.feature_names_in_ = first.feature_names_in_
        scores = [getattr(m, "best_validation_score_", None) for m in self.estimators_]
        if any(score is None for score in scores):
            self.validation_scores_, self.oof_score_ = None, None
        else:
            self.validation_scores_ = np.asarray(scores, dtype=float)
            sizes = np.array([len(valid) for _, valid in self.folds_])
            self.oof_score_ = float(self.validation_scores_ @ sizes / sizes.sum())
        return self

    @staticmethod
    def _check_X_y(X: Any, y: Any) -> tuple[Any, np.ndarray]:
        """What the folds need: as many labels as series, in 1-D. The members
        check the series themselves, so a DataFrame stays one (its column names
        reach them)."""
        if y is None:
            raise ValueError("CVEnsembleClassifier requires y to be passed, but the target "
                             "y is None")
        if issparse(X):
            raise TypeError("CVEnsembleClassifier does not support sparse input: pass the "
                            "series as a dense array")
        if not hasattr(X, "iloc"):
            X = np.asarray(X)
        y = column_or_1d(y, warn=True)
        check_consistent_length(X, y)
        if len(y) == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 2 is required "
                             "by CVEnsembleClassifier")
        check_classification_targets(y)
        return X, y

    def _base_estimator(self) -> Any:
        if self.estimator is None:
            return V2SClassifier()
        parameters = inspect.signature(self.estimator.fit).parameters
        if not {"X_val", "y_val"} <= set(parameters):
            raise TypeError(f"{type(self).__name__} gives each member its fold through "
                            f"fit(X, y, X_val=..., y_val=...); "
                            f"{type(self.estimator).__name__}.fit takes no X_val and y_val")
        return self.estimator

    def predict_proba(self, X: Any) -> np.ndarray:
        """The members' mean probabilities, columns in ``classes_`` order.

        Returns
        -------
        ndarray of shape (n_series, n_classes)
        """
        check_is_fitted(self)
        return np.mean([member.predict_proba(X) for member in self.estimators_], axis=0)

    def predict(self, X: Any) -> np.ndarray:
        """The class of highest mean probability.

        Returns
        -------
        ndarray of shape (n_series,)
        """
        proba = self.predict_proba(X)  # checks fitted before classes_ is read
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = V2SClassifier() if self.estimator is None else self.estimator
        if hasattr(base, "__sklearn_tags__"):  # the members' inputs are the ensemble's
            member = base.__sklearn_tags__()
            tags.input_tags = member.input_tags
            tags.classifier_tags.poor_score = member.classifier_tags.poor_score
        return tags


def _fit_member(member: Any, X: Any, y: np.ndarray, train: np.ndarray,
                valid: np.ndarray) -> Any:
    """Fit one member on the training rows, validated on its fold."""
    return member.fit(_safe_indexing(X, train), y[train],
                      X_val=_safe_indexing(X, valid), y_val=y[valid])
