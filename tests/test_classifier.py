"""V2SClassifier: fitting, predicting, fitted attributes, errors, persistence."""

from __future__ import annotations

import io
import pickle
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from v2s_sklearn import V2SClassifier, load_acoustic_model
from v2s_sklearn.acoustic.architectures import AttRNN
from v2s_sklearn.callbacks import Callback
from v2s_sklearn.label_mapping import frequency_label_map

from .conftest import FAST


@pytest.fixture(scope="module")
def fitted(gunpoint):
    X_train, y_train, _, _ = gunpoint
    return V2SClassifier(**FAST).fit(X_train, y_train)


def test_predict_proba_is_a_distribution_over_classes(fitted, gunpoint):
    _, _, X_test, _ = gunpoint
    proba = fitted.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-10)
    assert (proba >= 0).all()
    np.testing.assert_array_equal(fitted.predict(X_test),
                                  fitted.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(np.exp(fitted.predict_log_proba(X_test)), proba, rtol=1e-6)


def test_decision_function_is_the_log_odds_of_the_second_class(fitted, gunpoint):
    _, _, X_test, _ = gunpoint
    proba = fitted.predict_proba(X_test)
    decision = fitted.decision_function(X_test)
    assert decision.shape == (len(X_test),)
    np.testing.assert_allclose(decision, np.log(proba[:, 1] / proba[:, 0]), atol=1e-6)
    np.testing.assert_array_equal(fitted.predict(X_test),
                                  fitted.classes_[(decision > 0).astype(int)])


def test_fitted_attributes(fitted, gunpoint):
    X_train, y_train, _, _ = gunpoint
    np.testing.assert_array_equal(fitted.classes_, np.unique(y_train))
    assert fitted.n_features_in_ == X_train.shape[1]
    assert (fitted.n_channels_, fitted.n_timepoints_) == (1, X_train.shape[1])
    assert fitted.theta_.shape == (16000,) and fitted.theta_.dtype == np.float32
    assert np.abs(fitted.theta_).sum() > 0  # training moved theta
    # Random many-to-one map: floor(35 / 2) = 17 disjoint source labels per class.
    assert set(fitted.label_map_) == set(fitted.classes_)
    served = [name for names in fitted.label_map_.values() for name in names]
    assert all(len(names) == 17 for names in fitted.label_map_.values())
    assert len(set(served)) == len(served) and set(served) <= set(fitted.source_classes_)
    assert [row["epoch"] for row in fitted.history_] == [1, 2, 3]
    # No validation split: the epoch is chosen on the training loss of its final theta.
    losses = [row["train_eval_loss"] for row in fitted.history_]
    assert fitted.best_epoch_ == int(np.argmin(losses)) + 1
    assert fitted.best_loss_ == min(losses)
    assert all(np.isnan(row["valid_loss"]) for row in fitted.history_)


@pytest.mark.parametrize("labels", [["no", "yes"], [-1, 1], [3, 7]])
def test_any_label_type(gunpoint, labels):
    X_train, y_train, X_test, _ = gunpoint
    y = np.where(y_train == y_train[0], labels[1], labels[0])
    clf = V2SClassifier(**{**FAST, "max_epochs": 1}).fit(X_train, y)
    np.testing.assert_array_equal(clf.classes_, sorted(labels))
    assert set(clf.predict(X_test)) <= set(labels)


def test_dataframe_2d_and_3d_inputs_agree(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    params = {**FAST, "max_epochs": 1, "device": "cpu"}  # bit-identical: the CPU contract
    as_2d = V2SClassifier(**params).fit(X_train, y_train).predict_proba(X_test)
    as_3d = V2SClassifier(**params).fit(X_train[:, None], y_train).predict_proba(
        X_test[:, None])
    frame = V2SClassifier(**params).fit(pd.DataFrame(X_train), y_train)
    np.testing.assert_array_equal(as_2d, as_3d)
    np.testing.assert_array_equal(as_2d, frame.predict_proba(pd.DataFrame(X_test)))


def test_same_random_state_gives_identical_predictions(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    # Bit-identical refits are promised on the CPU; GPU kernels may sum in
    # varying order.
    params = {**FAST, "dropout": 0.3, "validation_fraction": 0.25, "device": "cpu"}
    first = V2SClassifier(**params).fit(X_train, y_train)
    second = V2SClassifier(**params).fit(X_train, y_train)
    np.testing.assert_array_equal(first.theta_, second.theta_)
    np.testing.assert_array_equal(first.predict_proba(X_test), second.predict_proba(X_test))
    other = V2SClassifier(**{**params, "random_state": 1}).fit(X_train, y_train)
    assert other.label_map_ != first.label_map_


class _KeepSourceWeights(Callback):
    """Records the frozen model's weights as they are at the end of training."""

    def on_train_end(self, run):
        self.state_ = {k: v.detach().clone() for k, v in
                       run.network.model.module.state_dict().items()}


def test_frozen_model_is_bit_identical_after_fit(gunpoint):
    X_train, y_train, _, _ = gunpoint
    reference = load_acoustic_model().module.state_dict()
    clf = V2SClassifier(**{**FAST, "dropout": 0.2}, callbacks=[_KeepSourceWeights()])
    clf.fit(X_train, y_train)
    after = clf.callbacks_[-1].state_
    assert reference.keys() == after.keys()
    assert any("running_mean" in key for key in after)  # batch-norm statistics included
    for key in reference:
        assert torch.equal(reference[key], after[key].cpu()), key  # fitted on any device


def test_user_module_is_copied_not_modified(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    torch.manual_seed(0)
    module = AttRNN([f"w{i}" for i in range(6)]).train()
    before = {k: v.clone() for k, v in module.state_dict().items()}
    clf = V2SClassifier(acoustic_model=module, **FAST).fit(X_train, y_train)
    assert module.training and all(p.requires_grad for p in module.parameters())
    for key, value in module.state_dict().items():
        assert torch.equal(before[key], value), key
    assert clf.source_classes_ == [f"w{i}" for i in range(6)]
    assert all(len(v) == 3 for v in clf.label_map_.values())
    assert clf.predict(X_test).shape == (len(X_test),)


def test_early_stopping_keeps_the_best_validation_epoch(italy):
    X, y = italy
    # A step this large overshoots within a few epochs, so stopping is certain.
    clf = V2SClassifier(max_epochs=40, n_iter_no_change=2, validation_fraction=0.5,
                        batch_size=8, learning_rate=5.0, learning_rate_schedule="constant",
                        input_scaling=None, random_state=0).fit(X, y)
    valid = np.array([row["valid_loss"] for row in clf.history_])
    assert clf.best_epoch_ == int(np.argmin(valid)) + 1
    assert len(valid) < 40  # stopped early: the last two epochs did not improve
    assert len(valid) - clf.best_epoch_ == 2


def test_frequency_mapping_gives_each_class_its_favourite_labels(gunpoint):
    X_train, y_train, _, _ = gunpoint
    clf = V2SClassifier(label_mapping="frequency", labels_per_class=3, input_scaling=None,
                        **FAST)
    clf.fit(X_train, y_train)
    served = [n for names in clf.label_map_.values() for n in names]
    assert len(served) == 6 and len(set(served)) == 6
    # The very labels the frozen model favours for each class (theta = 0); a
    # random map of 3 of 35 labels per class matches this by chance once in ~6,500.
    logits = torch.from_numpy(clf.source_logits(X_train, reprogrammed=False))
    proba = torch.softmax(logits, dim=1).numpy()
    codes = np.searchsorted(clf.classes_, y_train)
    favourite = frequency_label_map(proba, codes, 2, 3)
    for cls, labels in zip(clf.classes_, favourite):
        assert set(clf.label_map_[cls]) == {clf.source_classes_[k] for k in labels}


def test_tiny_data_without_a_validation_split_warns(gunpoint):
    X_train, y_train, _, _ = gunpoint
    X, y = X_train[[0, 1, 6, 7]], y_train[[0, 1, 6, 7]]
    with pytest.warns(UserWarning, match="validation"):
        clf = V2SClassifier(max_epochs=1, validation_fraction=0.1, random_state=0).fit(X, y)
    assert np.isnan(clf.history_[0]["valid_loss"])


def test_multichannel_series(basic_motions):
    X, y = basic_motions
    clf = V2SClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
    assert (clf.n_channels_, clf.n_timepoints_) == X.shape[1:]
    assert clf.predict_proba(X).shape == (len(X), 4)
    with pytest.raises(ValueError, match="channels"):
        clf.predict(X[:, :3])
    with pytest.raises(ValueError, match="3-D"):
        clf.predict(X[:, 0])


def test_verbose_shows_progress_and_epoch_lines(italy, capsys):
    X, y = italy
    V2SClassifier(**{**FAST, "max_epochs": 2, "verbose": 2}).fit(X, y)
    err = capsys.readouterr().err + capsys.readouterr().out
    assert "train_loss=" in err and "epoch" in err


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("bad, match", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_non_finite_input_is_refused(italy, bad, match):
    X, y = italy
    X = X.copy()
    X[0, 3] = bad
    with pytest.raises(ValueError, match=match):
        V2SClassifier(**FAST).fit(X, y)


def test_empty_input_is_refused():
    with pytest.raises(ValueError, match="0 sample"):
        V2SClassifier(**FAST).fit(np.empty((0, 10)), np.empty(0))


def test_single_class_is_refused(italy):
    X, y = italy
    with pytest.raises(ValueError, match="at least two classes"):
        V2SClassifier(**FAST).fit(X, np.zeros(len(X)))


def test_more_classes_than_source_labels_is_refused(italy):
    X, _ = italy
    three_way = AttRNN(["a", "b", "c"])
    y = np.arange(len(X)) % 4
    with pytest.raises(ValueError, match="only 3 source labels"):
        V2SClassifier(acoustic_model=three_way, **FAST).fit(X, y)
    with pytest.raises(ValueError, match="labels_per_class <= 1"):
        V2SClassifier(acoustic_model=three_way, labels_per_class=2, **FAST).fit(
            X, np.arange(len(X)) % 2)


def test_series_too_long_for_the_segments_is_refused(gunpoint):
    X_train, y_train, _, _ = gunpoint
    with pytest.raises(ValueError, match=r"n_segments <= 106"):
        V2SClassifier(n_segments=200, **FAST).fit(X_train, y_train)


def test_wrong_length_at_predict_is_refused(fitted, gunpoint):
    _, _, X_test, _ = gunpoint
    with pytest.raises(ValueError, match="length seen in fit"):
        fitted.predict(X_test[:, :100])
    with pytest.raises(ValueError, match="length 100"):
        fitted.predict(X_test[:, None, :100])


def test_predict_before_fit_raises_not_fitted(gunpoint):
    with pytest.raises(NotFittedError):
        V2SClassifier().predict(gunpoint[2])


@pytest.mark.parametrize("param, value", [
    ("dropout", 1.0), ("n_segments", 0), ("learning_rate", 0.0), ("max_epochs", 2.5),
    ("label_mapping", "nearest"), ("labels_per_class", 0), ("validation_fraction", 1.0),
    ("mask", "yes"), ("learning_rate_schedule", "cosine"),
])
def test_invalid_parameters_are_refused_at_fit(italy, param, value):
    X, y = italy
    with pytest.raises(ValueError, match=param):
        V2SClassifier(**{**FAST, param: value}).fit(X, y)


class _DeafModel(torch.nn.Module):
    """Source logits that do not depend on the input: theta cannot move the loss."""

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return (torch.linspace(-1, 1, 35, device=waveform.device).expand(len(waveform), -1)
                + 0 * waveform.sum())


def test_plateau_schedule_halves_the_learning_rate_when_the_loss_stalls(italy):
    X, y = italy
    # A model deaf to its input keeps the loss exactly flat, so the schedule must act.
    params = {**FAST, "max_epochs": 12, "learning_rate": 0.05, "acoustic_model": _DeafModel()}
    constant = V2SClassifier(**params, learning_rate_schedule="constant").fit(X, y)
    plateau = V2SClassifier(**params, learning_rate_schedule="plateau").fit(X, y)
    assert {row["learning_rate"] for row in constant.history_} == {0.05}
    rates = [row["learning_rate"] for row in plateau.history_]
    assert rates[0] == 0.05 and rates[-1] < rates[0]
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))


# ---------------------------------------------------------------- persistence
def test_pickle_and_joblib_round_trips(fitted, gunpoint):
    _, _, X_test, _ = gunpoint
    expected = fitted.predict_proba(X_test)
    blob = pickle.dumps(fitted)
    # theta (64 KB) travels; the 0.8 MB built-in weights are reloaded by name.
    assert len(blob) < 200_000
    restored = pickle.loads(blob)
    assert restored._acoustic_model_cache == {}  # no model weights in the pickle
    np.testing.assert_array_equal(restored.predict_proba(X_test), expected)
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(joblib.load(buffer).predict_proba(X_test), expected)


def test_a_model_fitted_for_a_missing_gpu_predicts_on_the_cpu(fitted, gunpoint):
    """What a GPU-fitted estimator meets on a CPU-only machine."""
    _, _, X_test, _ = gunpoint
    if torch.cuda.is_available():
        pytest.skip("CUDA is present: the CPU fallback cannot be exercised here")
    restored = pickle.loads(pickle.dumps(fitted))
    restored.device_, restored._device_at_fit = torch.device("cuda"), "cuda"
    with pytest.warns(RuntimeWarning, match="CUDA is not available"):
        proba = restored.predict_proba(X_test)
    np.testing.assert_array_equal(proba, fitted.predict_proba(X_test))
    with pytest.raises(ValueError, match="CUDA is not available"):
        V2SClassifier(device="cuda", **FAST).fit(X_test, gunpoint[3])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_fit_on_gpu_then_predict_on_cpu(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(device="cuda", **FAST).fit(X_train, y_train)
    assert clf.device_.type == "cuda"
    on_gpu = clf.predict_proba(X_test)
    restored = pickle.loads(pickle.dumps(clf))
    restored.device_ = torch.device("cpu")  # what prediction reads, not the parameter
    assert restored.reprogrammed_network().reprogrammer.theta.device.type == "cpu"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        on_cpu = restored.predict_proba(X_test)
    # The same float32 arithmetic on other hardware and kernels: close, not equal.
    np.testing.assert_allclose(on_cpu, on_gpu, atol=1e-3)
    assert (on_cpu.argmax(1) == on_gpu.argmax(1)).mean() >= 0.95
