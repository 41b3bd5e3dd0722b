"""The parameters of ``V2SClassifier`` and ``V2STimeSeriesClassifier``: one definition.

Each :class:`Param` holds a parameter's default, its constraints (checked once,
by scikit-learn's ``_parameter_constraints`` machinery), its annotation and its
numpydoc entry. Both estimators build their ``__init__`` (:func:`make_init`),
their ``_parameter_constraints`` (:func:`parameter_constraints`) and the
Parameters section of their docstrings (:func:`document`) from
:data:`PARAMETERS`, so a new parameter is one entry here.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import torch
from sklearn.utils._param_validation import Interval, StrOptions
from torch import nn

from .acoustic.registry import DEFAULT_MODEL
from .label_mapping import LABEL_MAPPINGS
from .readout import READOUTS
from .validation import OPTIMIZERS

#: Marks where :func:`document` puts the Parameters entries in a docstring.
PARAMETERS_MARK = "    %(parameters)s\n"


@dataclass(frozen=True)
class Param:
    """One estimator parameter: its name, default, constraints, annotation and docs."""

    name: str
    default: Any
    constraints: list
    annotation: str
    doc: str


PARAMETERS: tuple[Param, ...] = (
    Param("acoustic_model", DEFAULT_MODEL, [str, os.PathLike, nn.Module],
          "str | os.PathLike | nn.Module", """\
    acoustic_model : str, path or torch.nn.Module, default="tcresnet8-w1-synth"
        The frozen source model: a built-in name (``v2s models`` lists them),
        the path of a saved model (a v2s checkpoint or TorchScript file; its
        sha256 is recorded and prediction refuses a file that changed), or a
        module mapping ``(batch, samples)`` waveforms to ``(batch, K)`` logits
        (copied into the fitted estimator). The default is the fastest
        built-in model; ``docs/model_card.md`` compares them."""),
    Param("n_segments", "auto", [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
          "int | str", """\
    n_segments : int or "auto", default="auto"
        Copies of the series placed into the source input; ``"auto"`` places
        as many as fit, at most ``MAX_AUTO_SEGMENTS`` (10)."""),
    Param("resample_length", "auto",
          [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
          "int | str | None", """\
    resample_length : int, "auto" or None, default="auto"
        Series longer than this many points are resampled to it (area
        interpolation) before they are scaled and placed, so that more
        copies fit and their content rises into the band the source model
        resolves. ``"auto"`` resamples series longer than
        ``resampling.AUTO_ABOVE`` (300) points to ``AUTO_LENGTH`` (128);
        None places every series at its own length (the paper)."""),
    Param("mask", False, ["boolean"],
          "bool", """\
    mask : bool, default=False
        If True, ``theta`` is zero where a copy of the series sits."""),
    Param("input_scaling", "auto", [StrOptions({"auto", "center", "standard"}), None],
          "str | None", """\
    input_scaling : {"auto", None, "center", "standard"}, default="auto"
        What is done to every value before it is placed: None keeps it;
        ``"center"`` subtracts that time point's mean over the training
        series; ``"standard"`` also divides by their standard deviation.
        ``"auto"`` fits with None and with ``"standard"`` and keeps the fit of
        lower validation loss (twice the fit time)."""),
    Param("label_mapping", "ot", [StrOptions(set(LABEL_MAPPINGS))],
          "str", """\
    label_mapping : {"ot", "random", "frequency"}, default="ot"
        How source labels are assigned to classes before training:
        ``"random"`` (the paper), ``"frequency"`` (greedily, the labels the
        frozen model already predicts most for each class; Tsai et al. 2020)
        or ``"ot"`` (the assignment of largest total such affinity, solved as
        optimal transport with POT)."""),
    Param("labels_per_class", "auto",
          [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
          "int | str", """\
    labels_per_class : int or "auto", default="auto"
        Source labels averaged into each class; ``"auto"`` is
        ``floor(K / n_classes)``."""),
    Param("readout", "auto", [StrOptions(set(READOUTS))],
          "str", """\
    readout : {"auto", "labels", "features"}, default="auto"
        How class scores are read from the frozen model: ``"labels"``
        through the label map alone (the paper); ``"features"`` also through
        a linear head on the model's intermediate activations pooled over
        time, trained with ``theta`` (models with ``features`` and
        ``classify_pooled``: the built-in TC-ResNets, or a custom module);
        ``"auto"`` is ``"features"`` from ``FEATURES_MIN_CLASSES`` (10)
        classes on, where the map has at most three source labels per
        class, and ``"labels"`` below."""),
    Param("dropout", 0.0, [Interval(Real, 0, 1, closed="left")],
          "float", """\
    dropout : float, default=0.0
        Dropout rate on ``theta`` during training (never at prediction)."""),
    Param("weight_decay", 0.0, [Interval(Real, 0, None, closed="left")],
          "float", """\
    weight_decay : float, default=0.0
        L2 penalty on ``theta``, passed to the optimizer as ``weight_decay``."""),
    Param("learning_rate", 0.05, [Interval(Real, 0, None, closed="neither")],
          "float", """\
    learning_rate : float, default=0.05
        The optimizer's step size (``lr``)."""),
    Param("optimizer", "adam", [StrOptions(set(OPTIMIZERS)), type],
          "str | type[torch.optim.Optimizer]", """\
    optimizer : {"adam", "adamw", "sgd"} or torch.optim.Optimizer subclass, default="adam"
        What updates ``theta``; it gets ``lr=learning_rate``,
        ``weight_decay`` (when it takes one) and ``optimizer_params``.
        Optimizers that need a closure (L-BFGS) are refused."""),
    Param("optimizer_params", None, [dict, None],
          "dict[str, Any] | None", """\
    optimizer_params : dict or None, default=None
        Further options of the optimizer, e.g. ``{"momentum": 0.9}`` for SGD."""),
    Param("learning_rate_schedule", "plateau", [StrOptions({"constant", "plateau"})],
          "str", """\
    learning_rate_schedule : {"plateau", "constant"}, default="plateau"
        ``"plateau"`` halves the step after ``PLATEAU_PATIENCE`` (5) epochs
        without a lower monitored loss; ``"constant"`` keeps it (the paper)."""),
    Param("max_epochs", 100, [Interval(Integral, 1, None, closed="left")],
          "int", """\
    max_epochs : int, default=100
        Upper bound on training epochs."""),
    Param("batch_size", 32, [Interval(Integral, 1, None, closed="left")],
          "int", """\
    batch_size : int, default=32
        Minibatch size."""),
    Param("validation_fraction", 0.1, [Interval(Real, 0, 1, closed="left")],
          "float", """\
    validation_fraction : float, default=0.1
        Stratified share of the training data held out to pick the kept
        epoch and the input scaling of ``"auto"``, and to stop early. 0 (or
        too few series for a stratified split) selects on the training loss
        of each epoch's final ``theta``."""),
    Param("n_iter_no_change", 20, [Interval(Integral, 1, None, closed="left"), None],
          "int | None", """\
    n_iter_no_change : int or None, default=20
        Stop after this many epochs without a monitored loss lower than the
        best so far minus ``tol``; None trains for ``max_epochs``."""),
    Param("tol", 0.0, [Interval(Real, 0, None, closed="left")],
          "float", """\
    tol : float, default=0.0
        How much an epoch must lower the monitored loss to count as an
        improvement for early stopping."""),
    Param("callbacks", None, [list, None],
          "list[Callback] | None", """\
    callbacks : list of Callback or None, default=None
        :class:`v2s_sklearn.callbacks.Callback` instances that receive the
        training events after the built-in ones (:meth:`default_callbacks`).
        Each fit works on deep copies, kept in ``callbacks_``."""),
    Param("device", "auto", [str, torch.device],
          "str | torch.device", """\
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when present, else the CPU."""),
    Param("random_state", None, ["random_state"],
          "int | np.random.RandomState | None", """\
    random_state : int, RandomState instance or None, default=None
        Seeds the validation split, label map, shuffling and dropout. With an
        int, refitting on the CPU gives identical results."""),
    Param("verbose", 0, ["verbose"],
          "int", """\
    verbose : int or bool, default=0
        0 is silent, 1 (or True) shows a progress bar over epochs, 2 also
        prints a line per epoch."""),
)


def parameter_constraints() -> dict[str, list]:
    """``_parameter_constraints`` of both estimators."""
    return {param.name: param.constraints for param in PARAMETERS}


def document(docstring: str) -> str:
    """``docstring`` with :data:`PARAMETERS_MARK` replaced by every parameter's entry."""
    entries = "\n".join(param.doc for param in PARAMETERS) + "\n"
    return docstring.replace(PARAMETERS_MARK, entries)


def make_init(then: Callable[[Any], None] | None = None) -> Callable[..., None]:
    """An ``__init__`` that stores every parameter verbatim, as scikit-learn requires.

    Its signature (what ``get_params`` and ``clone`` read) lists
    :data:`PARAMETERS` with their defaults, positional or keyword, so
    ``inspect.signature`` and ``help`` show them as if written out.

    Parameters
    ----------
    then : callable or None
        Called with the instance afterwards (sktime's ``BaseClassifier.__init__``).
    """
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    signature = inspect.Signature(
        [inspect.Parameter("self", kind)]
        + [inspect.Parameter(p.name, kind, default=p.default, annotation=p.annotation)
           for p in PARAMETERS], return_annotation=None)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        for name, value in list(bound.arguments.items())[1:]:
            setattr(self, name, value)
        if then is not None:
            then(self)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return __init__
