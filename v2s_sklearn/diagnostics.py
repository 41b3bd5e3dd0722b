"""Why reprogramming works, measured: representation alignment and the risk bound.

Theorem 1 of Voice2Series (Yang, Tsai and Chen, 2021) bounds the target
population risk of a reprogrammed K-way source classifier ``f_S = softmax(z_S)``::

    risk_T  <=  eps_S  +  2 sqrt(K) * W1( mu(z_S(x_t + delta)), mu(z_S(x_s)) )

``eps_S`` is the source risk, and the second term (the representation
alignment loss) is the Wasserstein-1 distance between the distribution of the
source model's **logits** ``z_S`` on reprogrammed target series and on source
data. Logits, not probabilities: the theorem is stated on the logit layer
(its Lemma 1 bounds the distance of the softmax outputs by the logits'
Wasserstein distance, which is where ``2 sqrt(K)`` comes from), and the paper's
figures and tables measure logits.

Like the paper (Sec. 5.4), :func:`wasserstein_alignment` estimates the
distance by POT's sliced Wasserstein distance (``ot.sliced_wasserstein_distance``,
1,000 random projections, p=2); ``method="exact"`` solves the exact
Wasserstein-1 distance between the two samples instead (``ot.emd2``, fine for
a few thousand rows). Neither makes the bound a guarantee: the sliced distance
is a cheap proxy, and both are estimates from finite samples. Read it, as the
paper does, as a diagnostic that should fall as training aligns the target
data with the source model's own data.

Source data must be available offline: every built-in model ships a small
reference sample of its logits on held-out source clips
(:func:`v2s_sklearn.acoustic.registry.reference_outputs`); for any other model
pass ``source_outputs=``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import ot
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .acoustic.registry import available_models, model_info, reference_outputs
from .callbacks import Callback
from .training import TrainingRun, scores

__all__ = ["AlignmentRecorder", "risk_bound", "source_reference", "wasserstein_alignment"]

METHODS = ("sliced", "exact")


def source_reference(classifier: Any) -> np.ndarray:
    """The reference logits of the classifier's built-in source model.

    Raises
    ------
    ValueError
        For a source model that is not built in (pass ``source_outputs=``).
    sklearn.exceptions.NotFittedError
        For a classifier that is not fitted.
    """
    check_is_fitted(classifier)
    name = getattr(classifier, "acoustic_model_", None)
    if not (isinstance(name, str) and name in available_models()):
        raise ValueError("the source model is not a built-in one, so no reference sample of "
                         "its outputs on source data ships with it: pass source_outputs=, "
                         "its logits on held-out source clips, shape (n_clips, "
                         f"{len(classifier.source_classes_)})")
    return reference_outputs(name)


def _check_projections(n_projections: Any) -> int:
    if (isinstance(n_projections, bool) or not isinstance(n_projections, (int, np.integer))
            or n_projections < 1):
        raise ValueError("n_projections must be a positive int, the random directions of the "
                         f"sliced distance (the paper uses 1000); got {n_projections!r}")
    return int(n_projections)


def _check_method(method: Any) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    return method


def _check_outputs(values: Any, what: str) -> np.ndarray:
    """``values`` as a finite float64 array ``(n_rows, n_classes)`` with a row at least."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{what} must be a 2-D array of logits, shape (n_rows, "
                         f"n_source_classes); got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ValueError(f"{what} is empty (shape {array.shape}): the distance needs the "
                         "logits of at least one row")
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ValueError(f"{what} has NaN or infinite values in {int(bad.sum())} of "
                         f"{len(array)} rows (first: row {int(np.flatnonzero(bad)[0])}): "
                         "pass finite logits")
    return array


def _distance(target: np.ndarray, source: np.ndarray, n_projections: int,
              random_state: Any, method: str) -> float:
    target = _check_outputs(target, "the source model's logits on X")
    if target.shape[1] != source.shape[1]:
        raise ValueError(f"source_outputs have {source.shape[1]} columns, but the source "
                         f"model has {target.shape[1]} classes")
    if method == "exact":
        cost = ot.dist(target, source, metric="euclidean")
        return float(ot.emd2(ot.unif(len(target)), ot.unif(len(source)), cost))
    # An int seeds POT's projections directly; a RandomState is drawn from once,
    # so repeated calls with the same instance differ, as scikit-learn's do.
    seed = random_state if isinstance(random_state, (int, np.integer)) or random_state is None \
        else int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return float(ot.sliced_wasserstein_distance(target, source, n_projections=n_projections,
                                                seed=seed))


def wasserstein_alignment(classifier: Any, X: Any, *, n_projections: int = 1000,
                          random_state: int | np.random.RandomState | None = None,
                          source_outputs: np.ndarray | None = None, reprogrammed: bool = True,
                          method: str = "sliced") -> float:
    """Distance between the source model's logits on reprogrammed ``X`` and on source data.

    The representation alignment loss of Theorem 1 (see the module's docstring):
    small when reprogramming makes the target series look, to the frozen model,
    like the speech it was trained on.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like of shape (n_series, n_timepoints) or (n_series, n_channels, n_timepoints)
        Target series (training or held-out).
    n_projections : int, default=1000
        Random directions of the sliced distance (the paper's 1,000).
    random_state : int, RandomState instance or None, default=None
        Seeds the projections; an int gives the same value on every call.
    source_outputs : ndarray of shape (n_clips, n_source_classes), optional
        Logits of the source model on source data; by default the reference
        sample shipped with a built-in model.
    reprogrammed : bool, default=True
        Add the fitted ``theta_``; False measures the series placed with
        ``theta = 0`` (before reprogramming), the baseline to compare with.
    method : {"sliced", "exact"}, default="sliced"
        POT's sliced Wasserstein-2 distance (the paper's estimate), or the exact
        Wasserstein-1 distance between the two samples (``ot.emd2``).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``n_projections`` is not a positive int, ``method`` is unknown, or
        either set of logits is empty, not 2-D or not finite.

    Examples
    --------
    >>> from v2s_sklearn import V2SClassifier
    >>> from v2s_sklearn.datasets import load_dataset
    >>> from v2s_sklearn.diagnostics import wasserstein_alignment
    >>> X, y = load_dataset("ItalyPowerDemand", "train")
    >>> clf = V2SClassifier(max_epochs=2, random_state=0).fit(X, y)
    >>> after = wasserstein_alignment(clf, X, random_state=0)
    >>> before = wasserstein_alignment(clf, X, random_state=0, reprogrammed=False)
    """
    check_is_fitted(classifier)
    # The arguments first: the logits of X cost a forward pass.
    n_projections, method = _check_projections(n_projections), _check_method(method)
    source = source_reference(classifier) if source_outputs is None else source_outputs
    source = _check_outputs(source, "source_outputs")
    target = classifier.source_logits(X, reprogrammed=reprogrammed)
    return _distance(target, source, n_projections, random_state, method)


def risk_bound(classifier: Any, X: Any, *, n_projections: int = 1000,
               random_state: int | np.random.RandomState | None = None,
               source_outputs: np.ndarray | None = None, source_risk: float | None = None,
               method: str = "sliced") -> dict[str, Any]:
    """The right-hand side of Theorem 1 for the fitted classifier on ``X``.

    Parameters
    ----------
    classifier : V2SClassifier
        A fitted classifier.
    X : array-like
        Target series.
    n_projections, random_state, source_outputs, method
        As for :func:`wasserstein_alignment`.
    source_risk : float, optional
        The source model's held-out error; by default ``1 - test_accuracy`` of a
        built-in model's card (its voice-disjoint test speakers). The paper's
        Table 3 uses the source validation loss instead.

    Returns
    -------
    dict
        ``source_risk``, ``wasserstein``, ``bound`` (``source_risk + 2 sqrt(K) *
        wasserstein``), and the constants: ``n_source_classes`` (K),
        ``coefficient`` (``2 sqrt(K)``), ``n_projections``, ``method`` and
        ``representation`` (``"logits"``).

    Raises
    ------
    ValueError
        If ``source_risk`` is not a number from 0 to 1, or is not given for a
        source model without a card; and as :func:`wasserstein_alignment`.
    """
    check_is_fitted(classifier)
    if source_risk is not None:
        risk = (float(source_risk) if isinstance(source_risk, (int, float, np.number))
                and not isinstance(source_risk, bool) else float("nan"))
        if not 0.0 <= risk <= 1.0:  # NaN fails too
            raise ValueError("source_risk must be the source model's held-out error, a number "
                             f"from 0 to 1; got {source_risk!r}")
    else:
        name = getattr(classifier, "acoustic_model_", None)
        accuracy = (model_info(name).get("metadata", {}).get("test_accuracy")
                    if isinstance(name, str) and name in available_models() else None)
        if accuracy is None:
            raise ValueError("the source model's held-out error is not on record: pass "
                             "source_risk=")
        source_risk = 1.0 - float(accuracy)
    distance = wasserstein_alignment(classifier, X, n_projections=n_projections,
                                     random_state=random_state,
                                     source_outputs=source_outputs, method=method)
    n_source = len(classifier.source_classes_)
    coefficient = 2.0 * math.sqrt(n_source)
    return {"source_risk": float(source_risk), "wasserstein": distance,
            "bound": float(source_risk) + coefficient * distance,
            "n_source_classes": n_source, "coefficient": coefficient,
            "n_projections": n_projections, "method": method, "representation": "logits"}


class AlignmentRecorder(Callback):
    """Record the alignment of an evaluation set in ``history_`` after every epoch.

    Adds ``alignment`` to each history row: :func:`wasserstein_alignment` of
    ``X`` reprogrammed with that epoch's ``theta``, with the same projections
    every epoch (seeded by ``random_state``) so the curve moves with ``theta``
    only. With ``y``, also ``eval_loss`` and ``eval_accuracy`` on ``(X, y)``,
    to set the alignment beside a held-out loss (the paper's Fig. 3). Costs one
    forward pass over ``X`` per epoch.

    Parameters
    ----------
    X : array-like
        Evaluation series, as given to ``fit``.
    y : array-like, optional
        Their labels.
    n_projections : int, default=1000
    random_state : int, default=0
    source_outputs : ndarray, optional
        As for :func:`wasserstein_alignment`.

    Raises
    ------
    ValueError
        If ``X`` is empty, ``y`` is not one label per series, ``n_projections``
        is not a positive int, or ``source_outputs`` is empty, not 2-D or not finite.
    TypeError
        If ``random_state`` is not an int.

    Notes
    -----
    The copies of the evaluation set it makes for a run are released when the
    run ends: the fitted estimator's ``callbacks_`` hold no tensors.

    Examples
    --------
    >>> from v2s_sklearn import V2SClassifier
    >>> from v2s_sklearn.diagnostics import AlignmentRecorder
    >>> clf = V2SClassifier(callbacks=[AlignmentRecorder(X_held_out, y_held_out)])
    ... # doctest: +SKIP
    """

    def __init__(self, X: Any, y: Any = None, n_projections: int = 1000,
                 random_state: int = 0, source_outputs: np.ndarray | None = None) -> None:
        # Checked here, not after the first epoch of a fit.
        if X is None or len(X) == 0:
            raise ValueError("X must hold the evaluation series (at least one), as given "
                             "to fit")
        if y is not None and len(y) != len(X):
            raise ValueError(f"y has {len(y)} labels but X has {len(X)} series: pass one "
                             "label per series, or y=None for the alignment only")
        if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
            raise TypeError("random_state must be an int, so that every epoch uses the same "
                            f"projections; got {random_state!r}")
        self.X = X
        self.y = y
        self.n_projections = _check_projections(n_projections)
        self.random_state = random_state
        self.source_outputs = (None if source_outputs is None else
                               _check_outputs(source_outputs, "source_outputs"))

    def on_train_begin(self, run: TrainingRun) -> None:
        import torch

        from .scaling import scale_series

        estimator = run.estimator
        series = scale_series(estimator.network_input(self.X, scale=False), run.input_mean,
                              run.input_scale)
        self._X = torch.from_numpy(series).to(run.X.device)
        self._y = None
        if self.y is not None:
            codes = np.searchsorted(estimator.classes_, np.asarray(self.y))
            self._y = torch.as_tensor(codes, device=run.X.device)
        if self.source_outputs is None:
            self._source = source_reference(estimator).astype(np.float64)
        else:
            self._source = self.source_outputs

    def on_train_end(self, run: TrainingRun) -> None:
        # The results are in history_; the fitted estimator keeps this callback in
        # callbacks_, so let the device copies of the evaluation set go.
        self._X = self._y = self._source = None

    def on_epoch_end(self, run: TrainingRun) -> None:
        import torch

        estimator, row = run.estimator, run.history[-1]
        with torch.inference_mode():
            logits, log_proba = scores(run, self._X)
            if self._y is not None:
                row["eval_loss"] = float(estimator.get_loss(log_proba, self._y))
                row["eval_accuracy"] = float((log_proba.argmax(1) == self._y).float().mean())
        row["alignment"] = _distance(logits.double().cpu().numpy(), self._source,
                                     self.n_projections, self.random_state, "sliced")

    def __getstate__(self) -> dict:
        # The device copies of the evaluation set are for the run only.
        return {k: v for k, v in self.__dict__.items() if k not in ("_X", "_y", "_source")}
