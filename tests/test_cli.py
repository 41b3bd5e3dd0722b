"""The `v2s` command line."""

from __future__ import annotations

from v2s_sklearn.cli import main as v2s


def test_demo_reports_accuracy_and_saves_the_training_curves(tmp_path, capsys):
    figure = tmp_path / "curves.png"
    v2s(["demo", "--dataset", "ItalyPowerDemand", "--max-epochs", "2",
         "--output", str(figure)])
    out = capsys.readouterr().out
    assert "test accuracy" in out and "fit time" in out
    assert figure.stat().st_size > 10_000  # a real PNG, not an empty file


def test_models_lists_the_built_in_model(capsys):
    v2s(["models"])
    out = capsys.readouterr().out
    assert "v2sa-synth" in out
    from v2s_sklearn.acoustic import DEFAULT_MODEL

    assert f"\n{DEFAULT_MODEL} (default): " in "\n" + out and out.count("(default)") == 1
    assert "crepe" not in out  # CREPE lives on as a gallery example, not a built-in name


def test_datasets_read_ucr_tsv_files(tmp_path):
    from v2s_sklearn.datasets import load_dataset

    folder = tmp_path / "Toy"
    folder.mkdir()
    (folder / "Toy_TRAIN.tsv").write_text("1\t0.1\t0.2\t0.3\n-1\t0.3\t0.2\t0.1\n")
    X, y = load_dataset("Toy", "train", data_dir=tmp_path)
    assert X.shape == (2, 3) and list(y) == ["1", "-1"]


# ------------------------------------------- mistakes on the command line (issue 28, point 1)
import io
import sys

import pytest


@pytest.fixture(scope="module")
def italy_model(tmp_path_factory):
    """A V2SClassifier fitted (one epoch) on ItalyPowerDemand, saved as v2s explain saves it."""
    import joblib

    from v2s_sklearn import V2SClassifier
    from v2s_sklearn.datasets import load_dataset

    X, y = load_dataset("ItalyPowerDemand", "train")
    clf = V2SClassifier(max_epochs=1, input_scaling=None, random_state=0)
    with pytest.warns(Warning):  # max_epochs=1 ends before early stopping, and says so
        clf.fit(X, y)
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    joblib.dump(clf, path)
    return path


def _refused(argv: list[str], capsys) -> str:
    """Run v2s; assert it exits 2 with one or two lines on stderr and no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        v2s(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert 1 <= len(lines) <= 2, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("command", ["demo", "explain"])
def test_an_unknown_dataset_is_refused_with_the_names_to_choose_from(command, tmp_path,
                                                                     capsys):
    err = _refused([command, "--dataset", "Nope", "--output", str(tmp_path / "out")], capsys)
    assert "unknown dataset 'Nope'" in err and "GunPoint" in err and "--data-dir" in err
    assert not (tmp_path / "out").exists()  # nothing written before the check


@pytest.mark.parametrize("command", ["demo", "explain"])
def test_zero_epochs_is_refused_by_the_parser(command, capsys):
    err = _refused([command, "--max-epochs", "0"], capsys)
    assert "--max-epochs: must be at least 1; got 0" in err and "--help" in err


@pytest.mark.parametrize("command", [["demo"], ["explain"],
                                     ["benchmark", "--methods", "minirocket"]])
def test_cuda_without_a_gpu_is_refused(command, monkeypatch, tmp_path, capsys):
    import torch

    monkeypatch.chdir(tmp_path)  # were it not refused, its outputs land here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # this machine, any machine
    err = _refused([*command, "--device", "cuda"], capsys)
    assert "no CUDA GPU" in err and "--device cpu" in err


def test_a_missing_data_dir_is_refused(tmp_path, capsys):
    err = _refused(["explain", "--data-dir", str(tmp_path / "nowhere")], capsys)
    assert "nowhere is not a folder" in err and "GunPoint/GunPoint_TRAIN.tsv" in err


def test_a_data_dir_without_the_dataset_names_what_it_holds(tmp_path, capsys):
    (tmp_path / "Toy").mkdir()
    (tmp_path / "Toy" / "Toy_TRAIN.tsv").write_text("1\t0.1\t0.2\n")
    err = _refused(["demo", "--data-dir", str(tmp_path)], capsys)
    assert "has no dataset 'GunPoint'" in err and "it holds: Toy" in err


def test_a_missing_or_empty_model_file_is_refused(tmp_path, capsys):
    err = _refused(["explain", "--dataset", "ItalyPowerDemand",
                    "--model", str(tmp_path / "missing.joblib")], capsys)
    assert "missing.joblib does not exist" in err and "model.joblib" in err
    (tmp_path / "empty.joblib").touch()
    err = _refused(["explain", "--dataset", "ItalyPowerDemand",
                    "--model", str(tmp_path / "empty.joblib")], capsys)
    assert "empty.joblib is empty" in err
    (tmp_path / "text.joblib").write_text("not a model\n")
    err = _refused(["explain", "--dataset", "ItalyPowerDemand",
                    "--model", str(tmp_path / "text.joblib")], capsys)
    assert "could not be loaded" in err


def test_a_model_of_another_series_length_suggests_its_dataset(italy_model, tmp_path, capsys):
    err = _refused(["explain", "--dataset", "GunPoint", "--model", str(italy_model),
                    "--output", str(tmp_path / "out")], capsys)
    assert "fitted on series of length 24, but GunPoint's have length 150" in err
    assert "--dataset" in err and "ItalyPowerDemand" in err


def test_too_few_test_series_for_the_classes_is_refused(capsys):
    err = _refused(["explain", "--max-test-series", "1"], capsys)
    assert "2 classes" in err and "at least 2" in err


def test_an_unknown_acoustic_model_is_refused_before_fitting(tmp_path, capsys):
    err = _refused(["explain", "--acoustic-model", "tcresnet9",
                    "--output", str(tmp_path / "out")], capsys)
    assert "'tcresnet9'" in err and "tcresnet8-w1-synth" in err and "v2s models" in err


@pytest.mark.parametrize("argv, expected", [
    (["--datasets", "Nope"], "unknown dataset(s) Nope"),
    (["--data-dir", "/nowhere/at/all"], "/nowhere/at/all is not a folder"),
    (["--methods", "v2s,rocket"], "unknown method(s) ['rocket']"),
    (["--max-test", "0"], "--max-test must be at least 1"),
])
def test_benchmark_mistakes_are_refused_in_one_line(argv, expected, tmp_path, capsys):
    err = _refused(["benchmark", *argv, "--output", str(tmp_path / "b.csv")], capsys)
    assert expected in err
    assert not (tmp_path / "b.csv").exists()


# ------------------------------------------------------------ v2s explain --help (point 2)
def _subparser(name: str):
    from v2s_sklearn.cli import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    return commands.choices[name]


def test_explain_help_documents_every_option_and_every_file_it_writes():
    explain = _subparser("explain")
    undocumented = [a.option_strings for a in explain._actions
                    if a.option_strings and not (a.help or "").strip()]
    assert not undocumented
    text = explain.format_help()
    for written in ("model.joblib", *(f"DATASET_{name}.png" for name in (
            "curves", "alignment", "cam", "attention", "saliency", "embedding"))):
        assert written in text, written


# --------------------------------------------------------------- progress (point 3)
class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so tqdm draws its bar into it."""

    def isatty(self) -> bool:
        return True


def test_explain_shows_progress_per_figure_on_a_terminal_only(italy_model, tmp_path,
                                                              monkeypatch, capsys):
    argv = ["explain", "--dataset", "ItalyPowerDemand", "--model", str(italy_model),
            "--max-test-series", "30", "--projections", "20", "--series", "1",
            "--dpi", "30", "--output", str(tmp_path / "a")]
    v2s(argv)
    assert "figures" not in capsys.readouterr().err  # not a terminal: no bar
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    v2s([*argv[:-1], str(tmp_path / "b")])
    bar = terminal.getvalue()
    assert "figures" in bar and "6/6" in bar and "embedding" in bar
    out = capsys.readouterr().out
    assert "wrote" in out and "ItalyPowerDemand_saliency.png" in out


# -------------------------------------------- an unknown model name (issue 28, point 5)
def test_an_unknown_model_name_is_not_reported_as_a_path(tmp_path, monkeypatch):
    from v2s_sklearn import V2SClassifier
    from v2s_sklearn.datasets import load_dataset

    monkeypatch.chdir(tmp_path)
    X, y = load_dataset("ItalyPowerDemand", "train")
    with pytest.raises(ValueError, match="neither a built-in model name") as error:
        V2SClassifier(acoustic_model="tcresnet9", max_epochs=1).fit(X, y)
    message = str(error.value)
    assert "acoustic_model='tcresnet9' is" in message  # as typed, not as a path
    assert str(tmp_path) not in message
    assert "tcresnet8-w1-synth" in message and "nor an existing file" in message
