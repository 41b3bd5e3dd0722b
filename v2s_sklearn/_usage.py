"""The checks behind the ``v2s`` command's one-line errors, and its argparse parser.

Each check raises :class:`UsageError` with a message that says what to type
instead; :func:`v2s_sklearn.cli.main` prints it and exits with status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """A mistake on the command line; the message says what to type instead.

    :func:`v2s_sklearn.cli.main` prints it in one line, without a traceback, and exits with
    status 2, as argparse does for the mistakes it finds itself.
    """


class UsageExit(SystemExit):
    """Exit status 2 that still reads as its message (``str``), for callers of ``main``."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Parser(argparse.ArgumentParser):
    """argparse's parser with its errors in two lines: the mistake, and where help is."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\nrun `{self.prog} --help` for the "
                     "options\n")


def positive_int(text: str) -> int:
    """argparse type of counts that must be at least 1 (epochs, series, projections)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1; got {value}")
    return value


def check_device(device: str) -> None:
    """Refuse a ``--device`` torch cannot use here, before anything is loaded.

    Raises
    ------
    UsageError
        For a name torch does not know, or CUDA on a machine without a GPU (the
        estimator's own check, :func:`v2s_sklearn.validation.resolve_device`).
    """
    from .validation import resolve_device

    try:
        resolve_device(device)
    except ValueError as error:
        raise UsageError(f"--device {device}: {error} (here: --device cpu, or leave "
                         "--device out and auto picks the GPU when there is one)") from None


def check_dataset(name: str, data_dir: str | None) -> None:
    """Refuse a ``--dataset`` or ``--data-dir`` that cannot be loaded, naming the choices."""
    from .datasets import available_datasets

    if data_dir is not None and not Path(data_dir).is_dir():
        raise UsageError(f"--data-dir {data_dir} is not a folder; give the folder that holds "
                         f"{name}/{name}_TRAIN.tsv (or .ts), or leave --data-dir out to use "
                         "the datasets sktime ships")
    names = available_datasets(data_dir)
    if name in names:
        return
    if data_dir is None:
        raise UsageError(f"unknown dataset {name!r}; without --data-dir choose one that "
                         f"sktime ships: {', '.join(names)} (or pass --data-dir DIR "
                         f"holding {name}/{name}_TRAIN.tsv)")
    shown = ", ".join(names[:20]) + (f" and {len(names) - 20} more" if len(names) > 20 else "")
    raise UsageError(f"--data-dir {data_dir} has no dataset {name!r} (no {name}/"
                     f"{name}_TRAIN.tsv or .ts); it holds: {shown or 'none'}")


def check_acoustic_model(name: str) -> None:
    """Refuse an ``--acoustic-model`` that is neither a built-in name nor a file."""
    from .acoustic.registry import file_sha256

    try:
        file_sha256(name)  # cheap: resolves the name, loads nothing
    except ValueError as error:
        raise UsageError(f"--acoustic-model: {error}; `v2s models` lists the names") from None


def load_data(args: argparse.Namespace) -> tuple[Any, Any, Any, Any]:
    """TRAIN and TEST of ``--dataset`` after the checks that give one-line errors."""
    from .datasets import load_dataset

    check_dataset(args.dataset, args.data_dir)
    try:
        X_train, y_train = load_dataset(args.dataset, "train", args.data_dir)
        X_test, y_test = load_dataset(args.dataset, "test", args.data_dir)
    except (OSError, ValueError) as error:  # e.g. no TEST file, or a malformed one
        raise UsageError(f"--dataset {args.dataset} could not be read: {error}") from None
    return X_train, y_train, X_test, y_test


def _length_of(name: str, data_dir: str | None) -> int | None:
    """Series length of a dataset's TEST split, None when it cannot be read."""
    from .datasets import load_dataset

    try:
        return int(load_dataset(name, "test", data_dir)[0].shape[-1])
    except Exception:  # noqa: BLE001 - only a suggestion: an unreadable set is skipped
        return None


def load_fitted(args: argparse.Namespace, X_test: Any) -> Any:
    """``--model``: a fitted V2SClassifier whose series are shaped like ``X_test``."""
    import joblib

    from . import V2SClassifier
    from .datasets import available_datasets

    path = Path(args.model)
    redo = ("give a V2SClassifier saved with joblib.dump after fit (v2s explain writes one, "
            "model.joblib, into --output), or leave --model out to fit one")
    if not path.is_file():
        raise UsageError(f"--model {path} does not exist; {redo}")
    if path.stat().st_size == 0:
        raise UsageError(f"--model {path} is empty; {redo}")
    try:
        clf = joblib.load(path)
    except Exception as error:  # noqa: BLE001 - any unreadable file is the same mistake
        raise UsageError(f"--model {path} could not be loaded ({type(error).__name__}: "
                         f"{error}); {redo}") from None
    if not isinstance(clf, V2SClassifier) or not hasattr(clf, "n_timepoints_"):
        raise UsageError(f"--model {path} holds a {type(clf).__name__}, not a fitted "
                         f"V2SClassifier; {redo}")
    channels = 1 if X_test.ndim == 2 else X_test.shape[1]
    if clf.n_channels_ != channels:
        raise UsageError(f"--model {path} was fitted on series of {clf.n_channels_} "
                         f"channel(s), but {args.dataset}'s have {channels}; pass the "
                         "--dataset (and --data-dir) it was fitted on")
    length = X_test.shape[-1]
    if clf.n_timepoints_ != length:
        # Only sktime's few shipped sets are cheap to scan; a --data-dir may hold hundreds.
        candidates = available_datasets(args.data_dir) if args.data_dir is None else []
        matches = [n for n in candidates if _length_of(n, None) == clf.n_timepoints_]
        hint = (f"pass --dataset {matches[0]}" if len(matches) == 1 else
                f"pass --dataset with one of {', '.join(matches)}" if matches else
                "pass the --dataset (and --data-dir) it was fitted on")
        raise UsageError(f"--model {path} was fitted on series of length "
                         f"{clf.n_timepoints_}, but {args.dataset}'s have length {length}; "
                         f"{hint}")
    print(f"loaded {path}")
    return clf
