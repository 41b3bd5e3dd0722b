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
from .training import TrainingRun, infer

__all__ = ["AlignmentRecorder", "risk_bound", "source_reference", "wasserstein_alignment"]

METHODS = ("sliced", "exact")


def source_reference(classifier: Any) -> np.ndarray:
    """The reference logits of the classifier's built-in source model.

    Raises
    ------
    ValueError
        For a source model that is not built in (pass ``source_outputs=``).
    """
    name = getattr(classifier, "acoustic_model_", None)
    if not (isinstance(name, str) and name in available_models()):
        raise ValueError("the source model is not a built-in one, so no reference sample of "
                         "its outputs on source data ships with it: pass source_outputs=, "
                         "its logits on held-out source clips, shape (n_clips, "
                         f"{len(classifier.source_classes_)})")
    return reference_outputs(name)


def _distance(target: np.ndarray, source: np.ndarray, n_projections: int,
              random_state: Any, method: str) -> float:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
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
    source = source_reference(classifier) if source_outputs is None else source_outputs
    target = classifier.source_logits(X, reprogrammed=reprogrammed)
    return _distance(target, np.asarray(source, dtype=np.float64), n_projections,
                     random_state, method)


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
    """
    check_is_fitted(classifier)
    if source_risk is None:
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

    Examples
    --------
    >>> from v2s_sklearn import V2SClassifier
    >>> from v2s_sklearn.diagnostics import AlignmentRecorder
    >>> clf = V2SClassifier(callbacks=[AlignmentRecorder(X_held_out, y_held_out)])
    ... # doctest: +SKIP
    """

    def __init__(self, X: Any, y: Any = None, n_projections: int = 1000,
                 random_state: int = 0, source_outputs: np.ndarray | None = None) -> None:
        self.X = X
        self.y = y
        self.n_projections = n_projections
        self.random_state = random_state
        self.source_outputs = source_outputs

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
            self._source = np.asarray(self.source_outputs, dtype=np.float64)

    def on_epoch_end(self, run: TrainingRun) -> None:
        import torch

        from .label_mapping import target_log_proba

        estimator, row = run.estimator, run.history[-1]
        run.network.reprogrammer.eval()
        with torch.inference_mode():
            logits = infer(run.network, self._X)
            if self._y is not None:
                log_proba = target_log_proba(logits, run.label_matrix)
                row["eval_loss"] = float(estimator.get_loss(log_proba, self._y))
                row["eval_accuracy"] = float((log_proba.argmax(1) == self._y).float().mean())
        row["alignment"] = _distance(logits.double().cpu().numpy(), self._source,
                                     self.n_projections, self.random_state, "sliced")

    def __getstate__(self) -> dict:
        # The device copies of the evaluation set are for the run only.
        return {k: v for k, v in self.__dict__.items() if k not in ("_X", "_y", "_source")}
