"""The state of one training run, and the callbacks that watch it.

:meth:`V2SClassifier.fit <v2s_sklearn.V2SClassifier.fit>` trains ``theta``
epoch by epoch. Everything one run needs (the network, the optimizer, the
data on the training device, the history so far and the epoch kept so far)
lives in a :class:`TrainingRun`; the estimator's steps (``run_epoch``,
``train_step``, ``evaluation_step``, ``get_loss``) act on it, and callbacks
receive it at four events:

``on_train_begin(run)``
    after the network, label map and optimizer exist, before the first epoch;
``on_epoch_begin(run)``
    before each epoch (``run.epoch`` epochs are done);
``on_epoch_end(run)``
    after each epoch, once ``run.history[-1]`` holds its row and the kept
    epoch is updated; set ``run.stop_training = True`` to stop;
``on_train_end(run)``
    after the last epoch.

Early stopping, the plateau schedule and the progress bar are callbacks that
the estimator builds from its parameters (:meth:`V2SClassifier.default_callbacks
<v2s_sklearn.V2SClassifier.default_callbacks>`); those given as
``callbacks=[...]`` run after them, in order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["Callback", "EarlyStopping", "PlateauSchedule", "ProgressBar", "TrainingRun"]


@dataclass
class TrainingRun:
    """Everything one training run of ``theta`` reads and writes.

    Attributes
    ----------
    estimator : V2SClassifier
        The estimator being fitted (its fitted attributes are not set yet).
    network : ReprogrammedModel
        The frozen source model behind the trainable input transformation.
    optimizer : torch.optim.Optimizer
        Updates ``network.reprogrammer.theta``.
    label_matrix : torch.Tensor of shape (n_classes, n_source)
        The label map as weights; updated in place by iterative maps (a CUDA
        graph reads it by address).
    label_map : list of ndarray
        The source labels serving each class.
    X : torch.Tensor of shape (n_series, n_channels, n_timepoints)
        All series, scaled, on the training device.
    y : torch.Tensor of shape (n_series,)
        Encoded classes.
    spectra : torch.Tensor or None
        Cached STFT of the placed series (STFT-domain path), or None.
    train_rows, valid_rows : torch.Tensor
        Row indices for training and for choosing the epoch (may be empty).
    generator : torch.Generator
        Draws shuffles and dropout masks on the training device.
    rng : numpy.random.Generator or None
        Draws what is needed on the host (mixup's weights).
    input_scaling : {None, "center", "standard"}
        The scaling of ``X`` in this run.
    input_mean, input_scale : ndarray of shape (n_channels, n_timepoints)
        Its statistics: a new series ``x`` enters the run as
        ``scale_series(x, input_mean, input_scale)``.
    history : list of dict
        One row per finished epoch (see ``V2SClassifier.history_``).
    best_loss : float
        The lowest monitored loss so far.
    best_epoch : int
        The epoch (1-based) whose ``theta`` is kept; 0 before the first.
    best_state : tuple or None
        ``(theta, label_matrix, label_map)`` of the kept epoch.
    stop_training : bool
        Set by a callback to end training after the current epoch.
    stop_reason : str or None
        Why training stopped early, for messages.
    callbacks : list of Callback
        The callbacks of this run (fresh copies for each run).
    step : TrainStep
        Computes a minibatch's gradients (eager, or replayed from a CUDA graph).
    """

    estimator: Any
    network: torch.nn.Module
    optimizer: torch.optim.Optimizer
    label_matrix: torch.Tensor
    label_map: list
    X: torch.Tensor
    y: torch.Tensor
    spectra: torch.Tensor | None
    train_rows: torch.Tensor
    valid_rows: torch.Tensor
    generator: torch.Generator
    rng: Any = None
    input_scaling: str | None = None
    input_mean: Any = None
    input_scale: Any = None
    history: list[dict] = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int = 0
    best_state: tuple | None = None
    stop_training: bool = False
    stop_reason: str | None = None
    callbacks: list = field(default_factory=list)
    step: Any = None

    @property
    def epoch(self) -> int:
        """Epochs finished so far."""
        return len(self.history)

    @property
    def has_validation(self) -> bool:
        return len(self.valid_rows) > 0

    @property
    def monitor(self) -> str:
        """The history key that chooses the kept epoch: validation loss when
        there is a validation split, else the training loss of each epoch's
        final ``theta`` (measured after the epoch, so it is the loss of the
        ``theta`` that would be kept)."""
        return "valid_loss" if self.has_validation else "train_eval_loss"

    @property
    def monitored(self) -> float:
        """The monitored loss of the latest epoch."""
        return self.history[-1][self.monitor]

    @property
    def theta(self) -> torch.Tensor:
        return self.network.reprogrammer.theta


class Callback:
    """Base class of training callbacks: override the events you need.

    A callback given to ``V2SClassifier(callbacks=[...])`` is deep-copied for
    every training run (so the parameter itself never changes, as
    scikit-learn requires, and the two runs of ``input_scaling="auto"`` do not
    share state); the copies of the kept run are ``callbacks_``.

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
        """After each epoch; ``run.history[-1]`` is its row."""

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
            run.stop_reason = (f"no improvement of {run.monitor} by more than tol={self.tol} "
                               f"in {self.patience} epochs")


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

    def __getstate__(self) -> dict:
        # The scheduler holds the run's optimizer: not part of a fitted model.
        state = self.__dict__.copy()
        state.pop("scheduler_", None)
        return state


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
        if self.verbose > 1:
            self.bar_.write(" ".join(f"{k}={v:.4g}" for k, v in row.items()
                                     if isinstance(v, (int, float))))

    def on_train_end(self, run: TrainingRun) -> None:
        self.bar_.close()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("bar_", None)
        return state
