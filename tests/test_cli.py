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
