"""The ``v2s`` command: ``demo``, ``models``, ``pretrain``, ``benchmark`` and ``explain``."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ._usage import (
    Parser,
    UsageError,
    UsageExit,
    check_acoustic_model,
    check_device,
    load_data,
    load_fitted,
    positive_int,
)

__all__ = ["UsageError", "build_parser", "check_device", "main"]


def _demo(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen needed

    from . import V2SClassifier
    from .plotting import plot_history

    check_device(args.device)
    X_train, y_train, X_test, y_test = load_data(args)
    print(f"{args.dataset}: {len(y_train)} train / {len(y_test)} test series of length "
          f"{X_train.shape[-1]}, {len(set(y_train))} classes")
    params = {"random_state": args.random_state, "verbose": 1, "device": args.device}
    if args.max_epochs is not None:
        params["max_epochs"] = args.max_epochs
    clf = V2SClassifier(**params)
    started = time.perf_counter()
    clf.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started
    accuracy = clf.score(X_test, y_test)
    print(f"test accuracy {accuracy:.4f}  fit time {fit_seconds:.1f} s  "
          f"(best epoch {clf.best_epoch_} of {len(clf.history_)}, input scaling "
          f"{clf.input_scaling_} of {list(getattr(clf, 'input_scaling_losses_', [None]))}, "
          f"device {clf.device_}, acoustic model {clf.acoustic_model!r})")
    figure = plot_history(clf)
    figure.suptitle(f"{args.dataset}: test accuracy {accuracy:.3f}")
    figure.savefig(args.output, dpi=120)
    print(f"training curves saved to {args.output}")


def _models(args: argparse.Namespace) -> None:
    from .acoustic.registry import DEFAULT_MODEL, available_models, model_info

    for name in available_models():
        info = model_info(name)
        meta = info.get("metadata", {})
        label = f"{name} (default)" if name == DEFAULT_MODEL else name
        # The same words and rounding as the README's table of the built-in models.
        print(f"{label}: {info['architecture']}, {info['n_parameters']} parameters, "
              f"held-out-voice accuracy {meta.get('test_accuracy', float('nan')):.3f}, "
              f"real-clip accuracy {meta.get('real_clip_accuracy', float('nan')):.3f}")


def _pretrain(args: argparse.Namespace) -> None:
    from .acoustic.checkpoint import publish_checkpoint
    from .pretrain.recipe import run

    metrics = run(args)
    if args.publish:
        weights = Path(__file__).parent / "acoustic" / "weights"
        entry = publish_checkpoint(args.output, args.publish, weights,
                                   description=args.description)
        print(json.dumps({"published": args.publish, "sha256": entry["sha256"]}))
    print(json.dumps({k: v for k, v in metrics.items() if k != "history"}, indent=2))


def _benchmark(args: argparse.Namespace) -> None:
    from .benchmarking import run_from_args

    run_from_args(args)


def _explain(args: argparse.Namespace) -> None:
    import joblib
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    from . import V2SClassifier
    from .diagnostics import AlignmentRecorder, risk_bound
    from .plotting import plot_alignment, plot_embedding, plot_explanation, plot_history

    check_device(args.device)
    X_train, y_train, X_test, y_test = load_data(args)
    n_classes = len(np.unique(y_test))
    if args.max_test_series is not None and args.max_test_series < n_classes:
        raise UsageError(f"--max-test-series {args.max_test_series} cannot hold one series "
                         f"of each of {args.dataset}'s {n_classes} classes; give at least "
                         f"{n_classes}, or leave it out to use all {len(y_test)}")
    clf = load_fitted(args, X_test) if args.model else None
    if args.max_test_series is not None and args.max_test_series < len(y_test):
        from sklearn.model_selection import train_test_split

        X_test, _, y_test, _ = train_test_split(X_test, y_test, train_size=args.max_test_series,
                                                stratify=y_test, random_state=args.random_state)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if clf is None:
        # The alignment curve is recorded on the test series: they only describe
        # the fit here, nothing is chosen on them.
        params = {"random_state": args.random_state, "verbose": 1, "device": args.device,
                  "callbacks": [AlignmentRecorder(X_test, y_test, n_projections=args.projections,
                                                  random_state=args.random_state)]}
        if args.max_epochs is not None:
            params["max_epochs"] = args.max_epochs
        if args.acoustic_model is not None:
            check_acoustic_model(args.acoustic_model)
            params["acoustic_model"] = args.acoustic_model
        clf = V2SClassifier(**params).fit(X_train, y_train)
        joblib.dump(clf, output / "model.joblib")
        print(f"wrote {output / 'model.joblib'}")
    print(f"{args.dataset}: test accuracy {clf.score(X_test, y_test):.4f}")
    bound = risk_bound(clf, X_test, n_projections=args.projections,
                       random_state=args.random_state)
    print("Theorem 1 on the test series: " + ", ".join(
        f"{key}={value:.4g}" if isinstance(value, float) else f"{key}={value}"
        for key, value in bound.items()))
    shown = X_test[: args.series]
    figures = {
        "curves": lambda: plot_history(clf),
        "alignment": lambda: plot_alignment(clf, X_test, n_projections=args.projections,
                                            random_state=args.random_state),
        "cam": lambda: plot_explanation(clf, shown, kind="cam", max_series=args.series),
        "attention": lambda: plot_explanation(clf, shown, kind="attention",
                                              max_series=args.series),
        "saliency": lambda: plot_explanation(clf, shown, kind="saliency",
                                             max_series=args.series),
        "embedding": lambda: plot_embedding(clf, X_test, y_test,
                                            random_state=args.random_state),
    }
    # One step per figure on stderr; tqdm leaves it out when stderr is not a terminal.
    bar = tqdm(figures.items(), desc="figures", unit="figure", file=sys.stderr,
               disable=None)
    for name, draw in bar:
        bar.set_postfix_str(name)
        try:
            figure = draw()
        except ValueError as error:  # e.g. a source model without attention
            tqdm.write(f"{name}: skipped ({error})", file=sys.stdout)
            continue
        path = output / f"{args.dataset}_{name}.png"
        figure.savefig(path, dpi=args.dpi)
        plt.close(figure)
        tqdm.write(f"wrote {path}", file=sys.stdout)


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dataset`` and ``--data-dir``, as ``demo`` and ``explain`` take them."""
    parser.add_argument("--dataset", default="GunPoint",
                        help="dataset name (default %(default)s, shipped with sktime)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of UCR datasets (NAME/NAME_TRAIN.tsv); default: "
                             "the copies sktime ships")


def _add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    """``--max-epochs``, ``--device`` and ``--random-state`` of the fitting commands."""
    parser.add_argument("--max-epochs", type=positive_int, default=None, metavar="N",
                        help="stop training after N epochs (default: the estimator's)")
    parser.add_argument("--device", default="auto",
                        help="auto (a CUDA GPU when there is one, else the CPU), cpu or cuda "
                             "(default %(default)s)")
    parser.add_argument("--random-state", type=int, default=0, metavar="SEED",
                        help="seeds the fit and any sampling (default %(default)s)")


#: What ``v2s explain`` writes, shown at the end of its ``--help``.
EXPLAIN_FILES = """files written into --output (DATASET is --dataset):
  model.joblib             the fitted V2SClassifier (only when fitting, not with
                           --model); reload it with joblib.load or pass it to --model
  DATASET_curves.png       training and validation loss and accuracy per epoch
  DATASET_alignment.png    Theorem 1: sliced Wasserstein alignment of the source
                           logits with theta = 0 and fitted (and its curve over the
                           epochs beside the loss when this run fitted)
  DATASET_cam.png          Grad-CAM of the source model mapped onto --series series
  DATASET_attention.png    the source model's attention (only for models with an
                           attention layer, such as v2sa-synth; skipped otherwise)
  DATASET_saliency.png     gradient of the predicted class's log-probability
  DATASET_embedding.png    t-SNE of the source logits before and after reprogramming
A figure that cannot be drawn for the model is skipped with a line saying why."""


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="v2s", description="Time-series classification by reprogramming a frozen "
                                "acoustic model (Voice2Series).")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="fit a dataset with the built-in model and "
                                            "report test accuracy and fit time")
    _add_dataset_arguments(demo)
    _add_fit_arguments(demo)
    demo.add_argument("--output", default="v2s_demo.png",
                      help="where to save the training curves (default %(default)s)")
    demo.set_defaults(func=_demo)

    models = commands.add_parser(
        "models", help="list the built-in acoustic models with their word accuracy on "
                       "held-out synthesized voices and on real recorded clips")
    models.set_defaults(func=_models)

    from .pretrain.recipe import add_arguments

    pretrain = commands.add_parser("pretrain", help="build an acoustic model from "
                                   "synthesized (or real, --gsc-dir) speech commands")
    add_arguments(pretrain)
    pretrain.add_argument("--publish", default=None, metavar="NAME",
                          help="copy the result into the package as built-in model NAME")
    pretrain.add_argument("--description", default="")
    pretrain.set_defaults(func=_pretrain)

    from .benchmarking import add_arguments as add_benchmark_arguments

    benchmark = commands.add_parser("benchmark", help="test accuracy and fit/predict time "
                                    "of V2S and MiniRocket on UCR datasets (CSV, .md, .png)")
    add_benchmark_arguments(benchmark)
    benchmark.set_defaults(func=_benchmark)

    explain = commands.add_parser(
        "explain", help="fit (or load) an estimator and write its figures: training curves, "
                        "alignment (Theorem 1), class activation maps, attention, saliency "
                        "and the t-SNE embedding of the source logits",
        description="Fit V2SClassifier on TRAIN of --dataset (or load --model), print its\n"
                    "test accuracy and Theorem 1's bound, and write the figures.",
        epilog=EXPLAIN_FILES, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_dataset_arguments(explain)
    explain.add_argument("--model", default=None, metavar="JOBLIB",
                         help="a fitted V2SClassifier saved with joblib (such as the "
                              "model.joblib an earlier run wrote), instead of fitting; "
                              "--dataset must have the series length it was fitted on")
    explain.add_argument("--output", default="v2s_explain", metavar="DIR",
                         help="folder for model.joblib and the figures, created if missing "
                              "(default %(default)s)")
    _add_fit_arguments(explain)
    explain.add_argument("--acoustic-model", default=None, metavar="NAME",
                         help="source model to fit with, a built-in name (`v2s models`) or "
                              "a file (default: the estimator's; v2sa-synth has the "
                              "attention layer the attention figure shows)")
    explain.add_argument("--max-test-series", type=positive_int, default=None, metavar="N",
                         help="describe a stratified sample of N test series, at least one "
                              "per class (quicker); default: all of them")
    explain.add_argument("--series", type=positive_int, default=3, metavar="N",
                         help="test series drawn in the explanation figures "
                              "(default %(default)s)")
    explain.add_argument("--projections", type=positive_int, default=1000, metavar="N",
                         help="random projections of the sliced Wasserstein distance "
                              "(default %(default)s)")
    explain.add_argument("--dpi", type=positive_int, default=110,
                         help="resolution of the PNG figures (default %(default)s)")
    explain.set_defaults(func=_explain)
    return parser


def main(argv: list[str] | None = None) -> None:
    """Run the ``v2s`` command.

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``v2s``; None reads ``sys.argv``.

    Raises
    ------
    SystemExit
        Status 2 for a mistake on the command line (after one line on stderr
        saying what to do), 1 when a benchmark pair failed.
    """
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except UsageError as error:
        print(f"v2s {args.command}: error: {error}", file=sys.stderr)
        raise UsageExit(str(error)) from None


if __name__ == "__main__":
    main()
