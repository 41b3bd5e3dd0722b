"""The training loop of ``theta``: epochs, steps, validation, the kept epoch, stopping.

:meth:`V2SClassifier.fit <v2s_sklearn.V2SClassifier.fit>` builds a
:class:`TrainingRun` (the network, optimizer, data on the training device)
for each candidate input scaling and hands it to :func:`train`, which runs
epochs until ``max_epochs`` or a callback stops it, keeping the ``theta`` of
lowest monitored loss. The estimator supplies the two pieces users replace
most (:meth:`~v2s_sklearn.V2SClassifier.get_loss` and
:meth:`~v2s_sklearn.V2SClassifier.initialize_optimizer`); callbacks
(:mod:`v2s_sklearn.callbacks`) watch and steer the epochs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from .callbacks import Callback, EarlyStopping, PlateauSchedule, ProgressBar
from .exceptions import NonFiniteError, non_finite_message, warn_at_caller
from .readout import FeatureHead, class_log_proba
from .train_step import TrainStep, graphs_supported

__all__ = ["Callback", "EarlyStopping", "PlateauSchedule", "ProgressBar", "TrainingRun",
           "infer", "train", "train_candidates"]

#: Series scored per forward pass in validation and prediction.
EVAL_BATCH_SIZE = 256


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
        The label map as weights.
    label_map : list of ndarray
        The source labels serving each class.
    head : FeatureHead or None
        The feature head (``readout="features"``), trained with ``theta``
        (the optimizer holds its parameters too); None reads the map only.
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
    batch_size : int
        Training minibatch size.
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
        ``(theta, label_matrix, head_state)`` of the kept epoch, on the
        training device (``head_state`` a state dict, or None without a head).
    stop_training : bool
        Set to True by a callback to end training after the current epoch;
        once set it stays set.
    interrupted : bool
        Whether a ``KeyboardInterrupt`` ended the run.
    callbacks : list of Callback
        The callbacks of this run (fresh copies for each run).
    graphed : bool
        Whether steps may replay CUDA graphs (on a GPU; not with random
        numbers drawn inside a step).
    step : TrainStep
        Computes a minibatch's gradients (eager, or replayed from a CUDA graph);
        made by :func:`train`.
    """

    estimator: Any
    network: torch.nn.Module
    optimizer: torch.optim.Optimizer | None
    label_matrix: torch.Tensor
    label_map: list
    head: FeatureHead | None
    X: torch.Tensor | None
    y: torch.Tensor | None
    spectra: torch.Tensor | None
    train_rows: torch.Tensor
    valid_rows: torch.Tensor
    generator: torch.Generator
    batch_size: int = 32
    input_scaling: str | None = None
    input_mean: Any = None
    input_scale: Any = None
    history: list[dict] = field(default_factory=list)
    best_loss: float = math.inf
    best_epoch: int = 0
    best_state: tuple | None = None
    interrupted: bool = False
    callbacks: list = field(default_factory=list)
    graphed: bool = True
    step: Any = None
    _stopped: bool = field(default=False, repr=False)

    @property
    def stop_training(self) -> bool:
        return self._stopped

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        # Sticky: one callback's stop is not undone by a later one.
        self._stopped = self._stopped or bool(value)

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

    @property
    def trained_parameters(self) -> list[torch.nn.Parameter]:
        """``theta``, then the feature head's weights and bias (when there is a head)."""
        return [self.theta] + ([] if self.head is None else list(self.head.parameters()))


def train(run: TrainingRun, max_epochs: int) -> None:
    """Train ``run`` for up to ``max_epochs`` epochs; keep the epoch of lowest monitored loss.

    A ``KeyboardInterrupt`` after the first epoch ends the run with a warning
    and the best ``theta`` so far (as ``MLPClassifier`` does); before it, it
    propagates. Whatever ends the run, the callbacks' ``on_train_end`` runs
    and the run lets go of its optimizer and device data (:func:`release`).

    Raises
    ------
    NonFiniteError
        When an epoch's losses or ``theta`` are NaN or infinite.
    """
    if run.step is None:
        run.step = TrainStep(lambda rows: batch_loss(run, rows), run.trained_parameters,
                             graphed=run.graphed and graphs_supported(run.X.device))
    try:
        for callback in run.callbacks:
            callback.on_train_begin(run)
        while run.epoch < max_epochs and not run.stop_training:
            for callback in run.callbacks:
                callback.on_epoch_begin(run)
            started = time.perf_counter()
            row = run_epoch(run)
            row["seconds"] = time.perf_counter() - started
            run.history.append(row)
            _check_finite(run)
            _update_kept_epoch(run)
            for callback in run.callbacks:
                callback.on_epoch_end(run)
    except KeyboardInterrupt:
        if run.best_state is None:
            raise
        run.interrupted = True
        warn_at_caller(f"Training interrupted by the user after {run.epoch} epoch(s); "
                       f"keeping epoch {run.best_epoch}, the best so far.", UserWarning)
    finally:
        for callback in run.callbacks:
            callback.on_train_end(run)
        release(run)


def train_candidates(start: Callable[[Any], TrainingRun], candidates: Sequence[Any],
                     max_epochs: int) -> list[TrainingRun]:
    """Train one run per candidate input scaling (``start(candidate)`` builds it).

    With several candidates, one that meets non-finite values is dropped with
    a warning (scaling tames huge values, so another may be fine); when every
    candidate fails, the first error is raised. Ctrl-C ends the whole fit, not
    one candidate: no later candidate starts, and the runs finished or
    interrupted after an epoch are kept (with a warning); before any epoch of
    any candidate, it propagates.

    Returns
    -------
    list of TrainingRun
        The finished runs, in the candidates' order.
    """
    runs, failures = [], {}
    for candidate in candidates:
        try:
            run = start(candidate)
            train(run, max_epochs)
            runs.append(run)
        except NonFiniteError as error:
            if len(candidates) == 1:
                raise
            failures[candidate] = error
        except KeyboardInterrupt:
            if not runs:
                raise
            warn_at_caller(f"Training interrupted by the user before input_scaling="
                           f"{candidate!r} trained an epoch; keeping the candidates "
                           "trained so far.", UserWarning)
            break
        if runs and runs[-1].interrupted:
            break  # the user stopped the fit: no further candidate starts
    if not runs:
        raise next(iter(failures.values()))
    for candidate, error in failures.items():
        warn_at_caller(f"input_scaling='auto': the candidate input_scaling={candidate!r} "
                       f"was dropped: {error}", RuntimeWarning)
    return runs


def release(run: TrainingRun) -> None:
    """Drop what only training needs: optimizer state, data and graphs on the device."""
    run.optimizer = run.step = None
    run.X = run.y = run.spectra = None
    for parameter in run.trained_parameters:
        parameter.grad = None


def run_epoch(run: TrainingRun) -> dict[str, float]:
    """One pass over the shuffled training rows, then the evaluation that
    chooses the epoch; returns the epoch's history row (without ``seconds``)."""
    run.network.reprogrammer.train()
    if run.head is not None:
        run.head.train()
    order = run.train_rows[torch.randperm(len(run.train_rows), generator=run.generator,
                                          device=run.train_rows.device)]
    total_loss, correct = 0.0, 0
    for start in range(0, len(order), run.batch_size):
        batch_loss, batch_correct = run.step(order[start : start + run.batch_size])
        run.optimizer.step()
        total_loss += batch_loss
        correct += batch_correct
    row = {"epoch": run.epoch + 1, "learning_rate": run.optimizer.param_groups[0]["lr"],
           "train_loss": float(total_loss) / len(order),
           "train_accuracy": float(correct) / len(order),
           "valid_loss": math.nan, "valid_accuracy": math.nan}
    if run.has_validation:
        row["valid_loss"], row["valid_accuracy"] = evaluate(run, run.valid_rows)
    else:
        # The epoch's running loss belongs to the thetas before each update;
        # the epoch is kept with its final theta, so that is what is scored.
        row["train_eval_loss"], _ = evaluate(run, run.train_rows)
    return row


def batch_loss(run: TrainingRun, rows: torch.Tensor
               ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Loss of a minibatch and its stats (summed loss, correct count): the
    function a :class:`~v2s_sklearn.train_step.TrainStep` runs or graphs."""
    spectra = None if run.spectra is None else run.spectra[rows]
    if run.head is None:
        logits, pooled = run.network(run.X[rows], run.generator, spectra), None
    else:
        logits, pooled = run.network(run.X[rows], run.generator, spectra, pooled=True)
    log_proba = class_log_proba(logits, pooled, run.label_matrix, run.head, run.generator)
    targets = run.y[rows]
    loss = run.estimator.get_loss(log_proba, targets)
    return loss, (loss.detach() * len(rows), (log_proba.argmax(1) == targets).sum())


def evaluate(run: TrainingRun, rows: torch.Tensor) -> tuple[float, float]:
    """Loss and accuracy of the current ``theta`` on ``rows`` (no dropout)."""
    with torch.inference_mode():
        _, log_proba = scores(run, run.X[rows],
                              None if run.spectra is None else run.spectra[rows])
        targets = run.y[rows]
        loss = run.estimator.get_loss(log_proba, targets)
        accuracy = (log_proba.argmax(1) == targets).float().mean()
    return float(loss), float(accuracy)


def scores(run: TrainingRun, X: torch.Tensor, spectra: torch.Tensor | None = None
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Source logits and class log-probabilities of scaled series ``X`` under the
    run's current ``theta``, map and head, in eval mode (call without gradients)."""
    run.network.reprogrammer.eval()
    if run.head is None:
        logits, pooled = infer(run.network, X, spectra), None
    else:
        run.head.eval()
        logits, pooled = infer(run.network, X, spectra, pooled=True)
    return logits, class_log_proba(logits, pooled, run.label_matrix, run.head)


def infer(network: torch.nn.Module, X: torch.Tensor, spectra: torch.Tensor | None = None,
          pooled: bool = False) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Source logits of ``X`` in batches of ``EVAL_BATCH_SIZE`` (call in eval mode);
    with ``pooled=True``, ``(logits, pooled activations)``."""
    out = [network(X[i : i + EVAL_BATCH_SIZE], None,
                   None if spectra is None else spectra[i : i + EVAL_BATCH_SIZE], pooled)
           for i in range(0, len(X), EVAL_BATCH_SIZE)]
    if pooled:
        return torch.cat([o[0] for o in out]), torch.cat([o[1] for o in out])
    return torch.cat(out)


def _update_kept_epoch(run: TrainingRun) -> None:
    """Keep this epoch's theta if its monitored loss is the lowest so far (a copy on the
    training device: no epoch waits for a copy to the host)."""
    if run.monitored < run.best_loss:
        run.best_loss, run.best_epoch = run.monitored, run.epoch
        head_state = (None if run.head is None else
                      {key: value.detach().clone()
                       for key, value in run.head.state_dict().items()})
        run.best_state = (run.theta.detach().clone(), run.label_matrix.clone(), head_state)


def _check_finite(run: TrainingRun) -> None:
    """Raise when an epoch's losses or theta are NaN or infinite."""
    row = run.history[-1]
    losses = {key: row[key] for key in ("train_loss", run.monitor)}
    if all(math.isfinite(v) for v in losses.values()) and torch.isfinite(run.theta).all():
        return
    shown = ", ".join(f"{key}={value:.4g}" for key, value in losses.items())
    raise NonFiniteError(non_finite_message(
        f"training met non-finite values in epoch {run.epoch} ({shown})", run.X,
        run.estimator.acoustic_model, learning_rate=run.optimizer.param_groups[0]["lr"]))


def still_improving(run: TrainingRun, max_epochs: int) -> bool:
    """Whether ``max_epochs`` ended a run whose last epoch was its best so far."""
    return (not run.stop_training and not run.interrupted and run.epoch >= max_epochs
            and run.best_epoch == run.epoch)
