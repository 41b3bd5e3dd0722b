"""``v2s benchmark``: the runner, its CSV / markdown / plot, the search and the reference table."""

from __future__ import annotations

import ast
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import v2s_sklearn
from v2s_sklearn import benchmarking
from v2s_sklearn.benchmarking import (
    CSV_COLUMNS,
    BenchmarkConfig,
    MiniRocketRidge,
    find_datasets,
    read_reference,
    reference_table,
    run_benchmark,
    search_grid,
    stratified_subset,
    summary_table,
)
from v2s_sklearn.cli import main as v2s
from v2s_sklearn.datasets import load_dataset

QUICK = ["--max-epochs", "1", "--max-train", "20", "--max-test", "40"]


def _read(path):
    return pd.read_csv(path, dtype={"dataset": str, "method": str})


def test_cli_writes_csv_markdown_and_plot(tmp_path, capsys):
    output = tmp_path / "out" / "bench.csv"
    v2s(["benchmark", "--datasets", "ItalyPowerDemand", "--methods", "v2s,minirocket",
         "--output", str(output), *QUICK])
    table = _read(output)
    assert tuple(table.columns) == CSV_COLUMNS
    assert sorted(zip(table["dataset"], table["method"])) == [
        ("ItalyPowerDemand", "minirocket"), ("ItalyPowerDemand", "v2s")]
    assert table["accuracy"].between(0, 1).all()
    assert (table["fit_seconds"] > 0).all() and (table["predict_seconds"] > 0).all()

    # The CSV's accuracy is the TEST accuracy of the method fitted on TRAIN.
    X_train, y_train = stratified_subset(*load_dataset("ItalyPowerDemand", "train"), 20, 0)
    X_test, y_test = stratified_subset(*load_dataset("ItalyPowerDemand", "test"), 40, 0)
    assert len(y_train) == 20 and len(y_test) == 40
    expected = MiniRocketRidge(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    assert table.set_index("method").loc["minirocket", "accuracy"] == pytest.approx(expected)
    assert expected > 0.8  # MiniRocket really learned ItalyPowerDemand

    report = output.with_suffix(".md").read_text()
    assert "| v2s |" in report and "| minirocket |" in report
    assert "max_epochs **1 (overridden" in report and "warm-up" in report
    assert "at most 20 TRAIN and 40 TEST" in report
    assert output.with_suffix(".png").stat().st_size > 10_000
    out = capsys.readouterr().out
    assert "ItalyPowerDemand v2s: accuracy" in out and "ItalyPowerDemand minirocket" in out


def _write_ucr(folder, name, X, y):
    (folder / name).mkdir(parents=True)
    for split, (Xs, ys) in {"TRAIN": (X[0], y[0]), "TEST": (X[1], y[1])}.items():
        lines = ["\t".join([label, *map(repr, row)]) for label, row in zip(ys, Xs.tolist())]
        (folder / name / f"{name}_{split}.tsv").write_text("\n".join(lines) + "\n")


def test_data_dir_finds_and_runs_every_dataset(tmp_path):
    data = tmp_path / "ucr"
    for name, source, n_test in (("Italy", "ItalyPowerDemand", 30), ("Gun", "GunPoint", 30)):
        train = stratified_subset(*load_dataset(source, "train"), 16, 0)
        test = stratified_subset(*load_dataset(source, "test"), n_test, 0)
        _write_ucr(data, name, (train[0], test[0]), (train[1], test[1]))
    (data / "notes").mkdir()  # a folder that is not a dataset is ignored
    assert find_datasets(data) == ["Gun", "Italy"]

    lines = []
    outcome = run_benchmark(methods=["minirocket"], output=tmp_path / "r.csv",
                            data_dir=data, log=lines.append)
    table = _read(tmp_path / "r.csv")
    assert tuple(table.columns) == CSV_COLUMNS
    assert sorted(table["dataset"]) == ["Gun", "Italy"] and set(table["method"]) == {
        "minirocket"}
    assert table["accuracy"].between(0, 1).all() and not outcome.failures
    assert sum("minirocket: accuracy" in line for line in lines) == 2
    assert (tmp_path / "r.md").exists() and (tmp_path / "r.png").exists()


def test_rows_reach_disk_as_they_are_measured_and_resume_skips_them(tmp_path):
    output = tmp_path / "r.csv"
    on_disk = []

    def log(line):
        if "accuracy" in line:
            on_disk.append(len(_read(output)))

    config = BenchmarkConfig(max_train=16, max_test=30)
    run_benchmark(["ItalyPowerDemand", "GunPoint"], ["minirocket"], output, config=config,
                  log=log)
    assert on_disk == [1, 2]  # each row was flushed before the next method ran
    first = _read(output)

    lines = []
    run_benchmark(["ItalyPowerDemand", "GunPoint", "ArrowHead"], ["minirocket"], output,
                  config=config, resume=True, log=lines.append)
    table = _read(output)
    assert list(table["dataset"]) == ["ItalyPowerDemand", "GunPoint", "ArrowHead"]
    pd.testing.assert_frame_equal(table.iloc[:2], first)
    assert [line for line in lines if "accuracy" in line][0].startswith("[3/3] ArrowHead")


def test_a_failing_dataset_is_reported_and_the_others_still_run(tmp_path, capsys):
    data = tmp_path / "ucr"
    train = stratified_subset(*load_dataset("ItalyPowerDemand", "train"), 16, 0)
    test = stratified_subset(*load_dataset("ItalyPowerDemand", "test"), 20, 0)
    _write_ucr(data, "Italy", (train[0], test[0]), (train[1], test[1]))
    _write_ucr(data, "Broken", (train[0], test[0]), (train[1], test[1]))
    (data / "Broken" / "Broken_TEST.tsv").unlink()  # found, but fails to load
    output = tmp_path / "r.csv"
    with pytest.raises(SystemExit) as exit_info:
        v2s(["benchmark", "--data-dir", str(data), "--datasets", "Broken,Italy", "--methods",
             "minirocket", "--output", str(output)])
    assert exit_info.value.code == 1
    assert list(_read(output)["dataset"]) == ["Italy"]
    assert "Broken minirocket" in capsys.readouterr().err
    assert "Broken" in output.with_suffix(".md").read_text()


@pytest.mark.filterwarnings("ignore:no stratified validation split")
def test_search_runs_the_grid_on_train_and_reports_its_choice(tmp_path):
    config = BenchmarkConfig(max_epochs=1, search_dropout=[0.0, 0.3],
                             search_segments=[1, 1000], search_folds=2, max_train=12,
                             max_test=20)
    X = np.zeros((5, 24))
    assert search_grid(config, X) == {"dropout": [0.0, 0.3], "n_segments": [1]}
    assert search_grid(config, np.zeros((5, 2, 8)))["n_segments"] == [1, 1000]

    outcome = run_benchmark(["ItalyPowerDemand"], ["v2s-search"], tmp_path / "s.csv",
                            config=config, log=lambda line: None)
    table = _read(tmp_path / "s.csv")
    assert list(table["method"]) == ["v2s-search"] and table["accuracy"].between(0, 1).all()
    note = outcome.notes[("ItalyPowerDemand", "v2s-search")]
    assert "n_segments=1" in note and ("dropout=0.0" in note or "dropout=0.3" in note)
    assert "v2s-search grid" in (tmp_path / "s.md").read_text()


@pytest.mark.filterwarnings("ignore:no stratified validation split")
@pytest.mark.parametrize("method", ["v2s-seeds3", "v2s-sources3"])
def test_an_ensemble_runs_three_members_and_notes_their_epochs(tmp_path, method):
    config = BenchmarkConfig(max_epochs=2, max_train=12, max_test=20)
    outcome = run_benchmark(["ItalyPowerDemand"], [method], tmp_path / "e.csv",
                            config=config, log=lambda line: None)
    table = _read(tmp_path / "e.csv")
    assert list(table["method"]) == [method] and table["accuracy"].between(0, 1).all()
    assert outcome.notes[("ItalyPowerDemand", method)].count(" of 2") == 3


def test_search_needs_two_series_per_class(tmp_path):
    config = BenchmarkConfig(max_epochs=1, max_train=2, max_test=10)
    outcome = run_benchmark(["ItalyPowerDemand"], ["v2s-search"], tmp_path / "s.csv",
                            config=config, log=lambda line: None)
    assert outcome.failures and "at least 2 TRAIN series per class" in outcome.failures[0][2]


def test_cli_rejects_unknown_methods_and_bad_numbers(tmp_path, capsys):
    for argv, expected in ((["--methods", "v2s,rocket"], "unknown method"),
                           (["--max-epochs", "0"], "--max-epochs must be at least 1")):
        with pytest.raises(SystemExit) as exit_info:  # status 2: a usage error
            v2s(["benchmark", *argv, "--output", str(tmp_path / "x.csv")])
        assert exit_info.value.code == 2 and expected in capsys.readouterr().err


def test_reference_table_puts_the_paper_beside_ours(tmp_path):
    results = pd.DataFrame(
        [("Coffee", "v2s", 0.9, 1.0, 0.1), ("Coffee", "minirocket", 1.0, 0.2, 0.1),
         ("Wine", "v2s", 0.5, 1.0, 0.1), ("Wine", "minirocket", 0.7, 0.2, 0.1),
         ("Toy", "v2s", 0.8, 1.0, 0.1), ("Toy", "minirocket", 0.6, 0.2, 0.1)],
        columns=CSV_COLUMNS)
    reference = tmp_path / "paper.csv"
    reference.write_text("dataset,length,sota,v2s_a\nCoffee,286,100,96\nWine,234,90,80\n")
    assert read_reference(reference).loc["Wine", "paper V2Sa"] == pytest.approx(0.8)

    table = reference_table(results, reference)
    lines = table.splitlines()
    assert lines[0] == "| dataset | v2s | minirocket | paper V2Sa | paper sota |"
    assert lines[2] == "| Coffee | 0.9000 | 1.0000 | 0.9600 | 1.0000 |"
    assert lines[4] == "| Toy | 0.8000 | 0.6000 | – | – |"  # not in the paper
    # means over the datasets with every figure: Coffee and Wine
    assert lines[5] == ("| **mean (2 datasets)** | **0.7000** | **0.8500** | **0.8800** | "
                        "**0.9500** |")

    summary = summary_table(results).splitlines()
    v2s_row = next(line for line in summary if line.startswith("| v2s |"))
    # v2s: mean 0.7333, wins Toy only, rank (2 + 2 + 1) / 3
    assert "| 3 | 0.7333 | 1.67 | 1 |" in v2s_row


# ------------------------------------------------ the benchmark is outside the library's core
def test_the_estimator_does_not_import_the_benchmark():
    code = ("import sys, v2s_sklearn, v2s_sklearn.classifier, v2s_sklearn.ensemble, "
            "v2s_sklearn.explain, v2s_sklearn.datasets, v2s_sklearn.acoustic; "
            "loaded = [m for m in sys.modules if m.startswith('v2s_sklearn.benchmark')]; "
            "assert not loaded, loaded")
    # The subprocess imports the same copy of the package as this test.
    root = str(Path(v2s_sklearn.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_benchmark_modules_import_only_the_ones_below_them():
    order = ["config", "baselines", "methods", "data", "sink", "reports", "runner",
             "cluster", "cli"]
    folder = Path(benchmarking.__file__).parent
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted([*order, "__init__"])
    for i, name in enumerate(order):
        tree = ast.parse((folder / f"{name}.py").read_text())
        siblings = {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1}
        assert siblings <= set(order[:i]), f"{name} imports {siblings - set(order[:i])}"


# ------------------------------------------------ progress and threads (issue 28, points 3-4)
class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so tqdm draws its bar into it."""

    def isatty(self) -> bool:
        return True


def test_cli_shows_progress_per_dataset_and_method_on_a_terminal_only(tmp_path, monkeypatch,
                                                                      capsys):
    argv = ["benchmark", "--datasets", "ItalyPowerDemand,GunPoint", "--methods",
            "minirocket", "--max-train", "20", "--max-test", "20"]
    v2s([*argv, "--output", str(tmp_path / "a.csv")])
    assert "benchmark" not in capsys.readouterr().err  # not a terminal: no bar
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    v2s([*argv, "--output", str(tmp_path / "b.csv")])
    bar = terminal.getvalue()
    assert "ItalyPowerDemand minirocket" in bar and "GunPoint minirocket" in bar
    assert "2/2" in bar
    assert "GunPoint minirocket: accuracy" in capsys.readouterr().out


_THREADS_SCRIPT = """
import json, re, sys, warnings
import torch
from v2s_sklearn import V2SClassifier
from v2s_sklearn.benchmarking import BenchmarkConfig, run_benchmark

warnings.simplefilter("ignore")
torch.set_num_threads(1)
torch.get_num_threads()  # torch's OpenMP is up before numba's first parallel call
seen = []
fit = V2SClassifier.fit
def recording_fit(self, *args, **kwargs):
    seen.append(torch.get_num_threads())
    return fit(self, *args, **kwargs)
V2SClassifier.fit = recording_fit
# MiniRocket first: numba's first parallel call resets torch's OpenMP thread count.
run_benchmark(["ItalyPowerDemand"], ["minirocket", "v2s"], sys.argv[1] + "/t.csv",
              config=BenchmarkConfig(max_epochs=1, max_train=20, max_test=20),
              log=lambda line: None)
stated = re.search(r"torch threads (\\d+)", open(sys.argv[1] + "/t.md").read())
print(json.dumps({"seen": seen, "stated": int(stated.group(1)),
                  "after": torch.get_num_threads()}))
"""


def test_every_v2s_fit_runs_on_the_thread_count_the_report_states(tmp_path):
    import json

    # A fresh process: numba resets torch's threads only at its first parallel call.
    root = str(Path(v2s_sklearn.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-c", _THREADS_SCRIPT, str(tmp_path)], env=env,
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout.strip().splitlines()[-1])
    assert facts["stated"] == 1  # the count when the run started
    assert facts["seen"] == [1, 1]  # the V2S warm-up and the timed fit, after MiniRocket
    assert facts["after"] == 1  # and the caller gets its count back


def test_the_cross_validated_ensembles_are_gone_with_their_estimator():
    # CVEnsembleClassifier leaves v2s_sklearn.ensemble in the core rewrite.
    assert not [name for name in benchmarking.METHODS if name.startswith("v2s-cv")]
