"""The ``v2s`` command: ``demo``, ``models``, ``pretrain``, ``benchmark`` and ``explain``."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def _demo(args: argparse.Namespace) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no screen needed

    from . import V2SClassifier
    from .datasets import load_dataset
    from .plotting import plot_history

    X_train, y_train = load_dataset(args.dataset, "train", args.data_dir)
    X_test, y_test = load_dataset(args.dataset, "test", args.data_dir)
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
        print(f"{label}: {info['architecture']}, {info['n_parameters']} parameters, "
              f"synthetic test accuracy {meta.get('test_accuracy', float('nan')):.3f}, "
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

    matplotlib.use("Agg")  # no screen needed
    import matplotlib.pyplot as plt

    from . import V2SClassifier
    from .datasets import load_dataset
    from .diagnostics import AlignmentRecorder, risk_bound
    from .plotting import plot_alignment, plot_embedding, plot_explanation, plot_history

    X_train, y_train = load_dataset(args.dataset, "train", args.data_dir)
    X_test, y_test = load_dataset(args.dataset, "test", args.data_dir)
    if args.max_test_series is not None and args.max_test_series < len(y_test):
        from sklearn.model_selection import train_test_split

        X_test, _, y_test, _ = train_test_split(X_test, y_test, train_size=args.max_test_series,
                                                stratify=y_test, random_state=args.random_state)
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if args.model:
        clf = joblib.load(args.model)
        print(f"loaded {args.model}")
    else:
        # The alignment curve is recorded on the test series: they only describe
        # the fit here, nothing is chosen on them.
        params = {"random_state": args.random_state, "verbose": 1, "device": args.device,
                  "callbacks": [AlignmentRecorder(X_test, y_test, n_projections=args.projections,
                                                  random_state=args.random_state)]}
        if args.max_epochs is not None:
            params["max_epochs"] = args.max_epochs
        if args.acoustic_model is not None:
            params["acoustic_model"] = args.acoustic_model
        clf = V2SClassifier(**params).fit(X_train, y_train)
        joblib.dump(clf, output / "model.joblib")
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
    for name, draw in figures.items():
        try:
            figure = draw()
        except ValueError as error:  # e.g. a source model without attention
            print(f"{name}: skipped ({error})")
            continue
        path = output / f"{args.dataset}_{name}.png"
        figure.savefig(path, dpi=args.dpi)
        plt.close(figure)
        print(f"wrote {path}")


def _add_dataset_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dataset`` and ``--data-dir``, as ``demo`` and ``explain`` take them."""
    parser.add_argument("--dataset", default="GunPoint",
                        help="dataset name (default %(default)s, shipped with sktime)")
    parser.add_argument("--data-dir", default=None,
                        help="folder of UCR datasets (NAME/NAME_TRAIN.tsv); default: "
                             "the copies sktime ships")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="v2s", description="Time-series classification by reprogramming a frozen "
                                "acoustic model (Voice2Series).")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="fit a dataset with the built-in model and "
                                            "report test accuracy and fit time")
    _add_dataset_arguments(demo)
    demo.add_argument("--max-epochs", type=int, default=None)
    demo.add_argument("--device", default="auto")
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--output", default="v2s_demo.png",
                      help="where to save the training curves (default %(default)s)")
    demo.set_defaults(func=_demo)

    models = commands.add_parser("models", help="list the built-in acoustic models")
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
                        "and the t-SNE embedding of the source logits")
    _add_dataset_arguments(explain)
    explain.add_argument("--model", default=None, metavar="JOBLIB",
                         help="a fitted V2SClassifier saved with joblib, instead of fitting")
    explain.add_argument("--output", default="v2s_explain",
                         help="folder for the figures (default %(default)s)")
    explain.add_argument("--max-epochs", type=int, default=None)
    explain.add_argument("--acoustic-model", default=None, metavar="NAME",
                         help="source model to fit with (default: the estimator's; "
                              "v2sa-synth has the attention layer the attention figure "
                              "shows)")
    explain.add_argument("--max-test-series", type=int, default=None, metavar="N",
                         help="describe a stratified sample of N test series (quicker); "
                              "default: all of them")
    explain.add_argument("--series", type=int, default=3,
                         help="test series drawn in the explanation figures")
    explain.add_argument("--projections", type=int, default=1000,
                         help="random projections of the sliced Wasserstein distance")
    explain.add_argument("--device", default="auto")
    explain.add_argument("--random-state", type=int, default=0)
    explain.add_argument("--dpi", type=int, default=110)
    explain.set_defaults(func=_explain)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
