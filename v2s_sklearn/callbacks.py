"""Callbacks: objects that watch and steer a training run of ``theta``.

:func:`v2s_sklearn.training.train` calls every callback of a run at four
events, each with the :class:`~v2s_sklearn.training.TrainingRun`:

``on_train_begin(run)``
    after the network, label map and optimizer exist, before the first epoch;
``on_epoch_begin(run)``
    before each epoch (``run.epoch`` epochs are done);
``on_epoch_end(run)``
    after each epoch, once ``run.history[-1]`` holds its row and the kept
    epoch is updated; set ``run.stop_training = True`` to stop;
``on_train_end(run)``
    after the last epoch (also after an interruption): let go of what the run
    owns.

Early stopping, the plateau schedule and the progress bar are callbacks that
the estimator builds from its parameters (:meth:`V2SClassifier.default_callbacks
<v2s_sklearn.V2SClassifier.default_callbacks>`); those given as
``callbacks=[...]`` run after them, in order.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # annotations only: training imports this module
    from .training import TrainingRun

__all__ = ["Callback", "EarlyStopping", "PlateauSchedule", "ProgressBar"]


class Callback:
    """Base class of training callbacks: override the events you need.

    A callback given to ``V2SClassifier(callbacks=[...])`` is deep-copied for
    every training run (so the parameter itself never changes, as
    scikit-learn requires, and the two runs of ``input_scaling="auto"`` do not
    share state); the copies of the kept run are ``callbacks_``. A callback
    should let go of device tensors and optimizer references in
    :meth:`on_train_end`, so that a fitted estimator holds none.

    Examples
    --------
    Record the norm of ``theta`` after every epoch:

    >>> from v2s_sklearn.training import Callback
    >>> class ThetaNorm(Callback):
    ...     def on_epoch_end(self, run):
    ...         run.history[-1]["theta_norm"] = float(run.theta.norm())
    """

    def on_train_begin(self, run: TrainingRun) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, run: TrainingRun) -> None:
        """Before each epoch."""

    def on_epoch_end(self, run: TrainingRun) -> None:
        """After each epoch; ``run.history[-1]`` is its row. Set
        ``run.stop_training = True`` to stop after it (stopping cannot be undone)."""

    def on_train_end(self, run: TrainingRun) -> None:
        """After the last epoch."""


class EarlyStopping(Callback):
    """Stop when the monitored loss has not improved by ``tol`` for ``patience`` epochs.

    An epoch improves when its monitored loss is below the best so far minus
    ``tol`` (scikit-learn's ``MLPClassifier`` rule). The kept epoch is chosen
    separately, as the one of lowest monitored loss.

    Parameters
    ----------
    patience : int, default=20
        Epochs without improvement before stopping.
    tol : float, default=0.0
        The improvement an epoch must make to count.
    """

    def __init__(self, patience: int = 20, tol: float = 0.0) -> None:
        self.patience = patience
        self.tol = tol

    def on_train_begin(self, run: TrainingRun) -> None:
        self.best_ = math.inf
        self.epochs_without_improvement_ = 0

    def on_epoch_end(self, run: TrainingRun) -> None:
        loss = run.monitored
        if loss < self.best_ - self.tol:
            self.best_, self.epochs_without_improvement_ = loss, 0
        else:
            self.epochs_without_improvement_ += 1
        if self.epochs_without_improvement_ >= self.patience:
            run.stop_training = True


class PlateauSchedule(Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without a
    lower monitored loss (``torch.optim.lr_scheduler.ReduceLROnPlateau``).

    Parameters
    ----------
    patience : int, default=5
    factor : float, default=0.5
    """

    def __init__(self, patience: int = 5, factor: float = 0.5) -> None:
        self.patience = patience
        self.factor = factor

    def on_train_begin(self, run: TrainingRun) -> None:
        self.scheduler_ = torch.optim.lr_scheduler.ReduceLROnPlateau(
            run.optimizer, mode="min", factor=self.factor, patience=self.patience)

    def on_epoch_end(self, run: TrainingRun) -> None:
        self.scheduler_.step(run.monitored)

    def on_train_end(self, run: TrainingRun) -> None:
        # The scheduler holds the run's optimizer: not part of a fitted model.
        del self.scheduler_


class ProgressBar(Callback):
    """A tqdm bar over epochs; with ``verbose >= 2`` also a line per epoch.

    Parameters
    ----------
    verbose : int, default=1
    """

    KEYS = ("train_loss", "valid_loss", "valid_accuracy")

    def __init__(self, verbose: int = 1) -> None:
        self.verbose = verbose

    def on_train_begin(self, run: TrainingRun) -> None:
        from tqdm.auto import tqdm

        estimator = run.estimator
        scaling = "" if run.input_scaling is None else f", {run.input_scaling}"
        self.bar_ = tqdm(total=estimator.max_epochs, unit="epoch", leave=True,
                         desc=f"{type(estimator).__name__}{scaling}")

    def on_epoch_end(self, run: TrainingRun) -> None:
        row = run.history[-1]
        self.bar_.set_postfix({k: round(row[k], 4) for k in self.KEYS
                               if k in row and row[k] == row[k]})
        self.bar_.update()
        if self.verbose > 1:  # NaN: a value this run does not measure (no validation)
            self.bar_.write(" ".join(f"{k}={v:.4g}" for k, v in row.items()
                                     if isinstance(v, (int, float)) and v == v))

    def on_train_end(self, run: TrainingRun) -> None:
        self.bar_.close()
        del self.bar_
