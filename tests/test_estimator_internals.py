"""The estimator's internals: fitted state, training steps, callbacks, non-finite values.

Each test pins one promise of ``V2SClassifier`` that a careful user relies on
without reading the code (the list is in ``docs/estimator.md``).
"""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from torch import nn

import v2s_sklearn
from v2s_sklearn import V2SClassifier
from v2s_sklearn.acoustic import DEFAULT_MODEL, pinning
from v2s_sklearn.acoustic.architectures import AttRNN
from v2s_sklearn.callbacks import Callback, EarlyStopping, PlateauSchedule
from v2s_sklearn.exceptions import InconsistentVersionWarning, NonFiniteError

from .conftest import FAST

ONE_EPOCH = {**FAST, "max_epochs": 1, "input_scaling": None}


class RecordRuns(Callback):
    """Appends what each training run saw to a list shared by all deep copies."""

    def __init__(self, log: list) -> None:
        self.log = log

    def __deepcopy__(self, memo):
        return RecordRuns(self.log)  # the copies write into the same list

    def on_train_begin(self, run):
        self.log.append({"scaling": run.input_scaling,
                         "train_rows": run.train_rows.cpu().numpy().copy(),
                         "valid_rows": run.valid_rows.cpu().numpy().copy(),
                         "optimizer": run.optimizer,
                         "logits_dtype": run.network(run.X[:2]).dtype})


# ----------------------------------------------- 1. prediction reads fitted state
def test_set_params_after_fit_changes_no_prediction(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(**{**ONE_EPOCH, "n_segments": 2}).fit(X_train, y_train)
    expected = clf.predict_proba(X_test)
    clf.set_params(mask=True, n_segments=1, input_scaling="standard", dropout=0.5,
                   acoustic_model=AttRNN(["a", "b", "c"]), device="cpu")
    np.testing.assert_array_equal(clf.predict_proba(X_test), expected)
    assert (clf.n_segments_, clf.mask_, clf.acoustic_model_) == (2, False, DEFAULT_MODEL)


def test_the_unpickled_model_is_loaded_once(gunpoint, monkeypatch):
    X_train, y_train, X_test, _ = gunpoint
    restored = pickle.loads(pickle.dumps(V2SClassifier(**ONE_EPOCH).fit(X_train, y_train)))
    calls = []
    real = pinning.load_acoustic_model
    monkeypatch.setattr(pinning, "load_acoustic_model",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    first = restored.predict_proba(X_test)
    for _ in range(3):
        np.testing.assert_array_equal(restored.predict_proba(X_test), first)
    assert len(calls) == 1


# ------------------------------------------------------ 2. a sound "auto" scaling
def test_auto_candidates_share_one_seed_and_split_even_unseeded(gunpoint):
    X_train, y_train, _, _ = gunpoint
    log: list = []
    clf = V2SClassifier(**{**FAST, "max_epochs": 1, "validation_fraction": 0.25,
                           "random_state": None, "callbacks": [RecordRuns(log)]})
    clf.fit(X_train, y_train)
    assert [entry["scaling"] for entry in log] == [None, "standard"]
    np.testing.assert_array_equal(log[0]["valid_rows"], log[1]["valid_rows"])
    assert len(log[0]["valid_rows"]) > 0


def test_the_scaler_sees_the_training_rows_only(gunpoint):
    X_train, y_train, _, _ = gunpoint
    log: list = []
    clf = V2SClassifier(**{**FAST, "max_epochs": 1, "validation_fraction": 0.25,
                           "input_scaling": "standard", "callbacks": [RecordRuns(log)]})
    clf.fit(X_train, y_train)
    rows = log[0]["train_rows"]
    assert len(rows) < len(X_train)
    np.testing.assert_allclose(clf.input_mean_[0], X_train[rows].mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(clf.input_scale_[0], X_train[rows].std(axis=0), rtol=1e-4)


def test_a_refit_leaves_no_state_of_the_earlier_fit(gunpoint):
    X_train, y_train, X_test, _ = gunpoint
    clf = V2SClassifier(**{**FAST, "max_epochs": 1})  # input_scaling="auto"
    clf.fit(pd.DataFrame(X_train, columns=[f"t{i}" for i in range(X_train.shape[1])]),
            y_train)
    assert hasattr(clf, "feature_names_in_") and hasattr(clf, "input_scaling_losses_")
    clf.set_params(input_scaling=None).fit(X_train, y_train)
    assert not hasattr(clf, "feature_names_in_")
    assert not hasattr(clf, "input_scaling_losses_")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        clf.predict(X_test)


# -------------------------------------------- 3. steps, optimizer, callbacks, attributes
def test_a_subclass_overrides_the_loss():
    class HalfLoss(V2SClassifier):
        def get_loss(self, log_proba, targets):
            return 0.5 * super().get_loss(log_proba, targets)

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((12, 30)), np.repeat([0, 1], 6)
    params = {**ONE_EPOCH, "learning_rate_schedule": "constant", "optimizer": "sgd",
              "learning_rate": 1e-9}  # theta stays put: the two losses are comparable
    half = HalfLoss(**params).fit(X, y).history_[0]
    full = V2SClassifier(**params).fit(X, y).history_[0]
    assert half["train_loss"] == pytest.approx(0.5 * full["train_loss"], rel=1e-5)
    assert half["train_eval_loss"] == pytest.approx(0.5 * full["train_eval_loss"], rel=1e-5)


def test_the_optimizer_and_its_options_are_parameters(italy):
    X, y = italy
    log: list = []
    V2SClassifier(**ONE_EPOCH, optimizer="sgd", optimizer_params={"momentum": 0.9},
                  callbacks=[RecordRuns(log)]).fit(X, y)
    optimizer = log[0]["optimizer"]
    assert isinstance(optimizer, torch.optim.SGD)
    assert optimizer.param_groups[0]["momentum"] == 0.9
    assert optimizer.param_groups[0]["lr"] == 0.05
    log.clear()
    V2SClassifier(**ONE_EPOCH, optimizer=torch.optim.RMSprop,
                  callbacks=[RecordRuns(log)]).fit(X, y)
    assert isinstance(log[0]["optimizer"], torch.optim.RMSprop)
    with pytest.raises(ValueError, match=r"Adam takes no \['no_such_option'\]"):
        V2SClassifier(**ONE_EPOCH, optimizer_params={"no_such_option": 1}).fit(X, y)
    with pytest.raises(ValueError, match="Optimizer subclass"):
        V2SClassifier(**ONE_EPOCH, optimizer=dict).fit(X, y)


def test_callbacks_receive_every_event_in_order_and_are_copied(italy):
    X, y = italy

    class Events(Callback):
        def __init__(self):
            self.seen = []

        def on_train_begin(self, run):
            self.seen = ["begin"]

        def on_epoch_begin(self, run):
            self.seen.append(f"epoch {run.epoch + 1}")

        def on_epoch_end(self, run):
            run.history[-1]["theta_norm"] = float(run.theta.norm())
            self.seen.append(f"end {run.epoch}")

        def on_train_end(self, run):
            self.seen.append("done")

    given = Events()
    clf = V2SClassifier(**{**ONE_EPOCH, "max_epochs": 2}, callbacks=[given]).fit(X, y)
    assert given.seen == []  # the parameter is left as it was
    kinds = [type(c) for c in clf.callbacks_]
    assert kinds == [EarlyStopping, PlateauSchedule, Events]
    assert clf.callbacks_[-1].seen == ["begin", "epoch 1", "end 1", "epoch 2", "end 2", "done"]
    # theta_ is the kept epoch's theta, recorded by the callback after that epoch.
    kept = clf.history_[clf.best_epoch_ - 1]["theta_norm"]
    assert kept == pytest.approx(np.linalg.norm(clf.theta_), rel=1e-6)
    with pytest.raises(TypeError, match="Callback instances"):
        V2SClassifier(**ONE_EPOCH, callbacks=[print]).fit(X, y)


def test_a_callback_can_stop_training(italy):
    X, y = italy

    class StopAfterTwo(Callback):
        def on_epoch_end(self, run):
            run.stop_training = run.epoch >= 2

    clf = V2SClassifier(**{**ONE_EPOCH, "max_epochs": 10},
                        callbacks=[StopAfterTwo()]).fit(X, y)
    assert clf.n_iter_ == 2


def test_mlpclassifier_style_attributes(italy):
    X, y = italy
    clf = V2SClassifier(**{**FAST, "max_epochs": 4, "validation_fraction": 0.5,
                           "n_iter_no_change": None}).fit(X, y)
    history = clf.history_
    assert clf.n_iter_ == len(history) == 4
    assert clf.loss_curve_ == [row["train_loss"] for row in history]
    assert clf.validation_scores_ == [row["valid_accuracy"] for row in history]
    assert clf.best_validation_score_ == history[clf.best_epoch_ - 1]["valid_accuracy"]
    assert clf.best_loss_ == min(row["valid_loss"] for row in history)
    no_validation = V2SClassifier(**ONE_EPOCH).fit(X, y)
    assert no_validation.validation_scores_ is None
    assert no_validation.best_validation_score_ is None


def test_tol_counts_small_improvements_as_none(italy):
    X, y = italy
    # Only the first epoch improves (on nothing); no later one lowers the training
    # loss by 100, so early stopping fires after 3 more.
    clf = V2SClassifier(**{**ONE_EPOCH, "max_epochs": 20, "n_iter_no_change": 3,
                           "tol": 100.0}).fit(X, y)
    assert clf.n_iter_ == 4


def test_convergence_warning_only_when_max_epochs_ends_an_improving_fit(italy):
    X, y = italy
    with pytest.warns(ConvergenceWarning, match="max_epochs=1"):  # its one epoch is its best
        V2SClassifier(**ONE_EPOCH).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        V2SClassifier(**{**ONE_EPOCH, "max_epochs": 20, "n_iter_no_change": 1,
                         "tol": 100.0}).fit(X, y)  # stopped early: converged by its rule


@pytest.mark.parametrize("params, match", [
    ({"device": "tpu9"}, "not a torch device"),
    ({"acoustic_model": "no-such-model"}, "neither a built-in model"),
    ({"tol": -1.0}, "'tol' parameter"),
    ({"optimizer": "lbfgs"}, "'optimizer' parameter"),
])
def test_device_and_acoustic_model_are_checked_before_any_work(italy, monkeypatch, params,
                                                               match):
    X, y = italy

    def no_work(*args, **kwargs):
        raise AssertionError("data were validated before the parameters")

    monkeypatch.setattr(V2SClassifier, "_validate_training_data", no_work)
    with pytest.raises(ValueError, match=match):
        V2SClassifier(**{**ONE_EPOCH, **params}).fit(X, y)


# ------------------------------------------- 4. epoch selection without validation
def test_without_validation_the_kept_loss_is_that_of_the_kept_theta(italy):
    X, y = italy
    clf = V2SClassifier(**{**ONE_EPOCH, "max_epochs": 6, "learning_rate": 0.5,
                           "learning_rate_schedule": "constant"}).fit(X, y)
    log_proba = clf.predict_log_proba(X)
    rows = np.searchsorted(clf.classes_, y)
    recomputed = -log_proba[np.arange(len(y)), rows].mean()
    assert clf.best_loss_ == pytest.approx(recomputed, rel=1e-4)
    assert clf.best_loss_ == clf.history_[clf.best_epoch_ - 1]["train_eval_loss"]


# ------------------------------------------------------------ 5. non-finite values
class ReturnsNaN(nn.Module):
    class_names = ["a", "b", "c", "d"]

    def forward(self, waveform):
        return torch.full((len(waveform), 4), float("nan"), dtype=waveform.dtype)


@pytest.mark.parametrize("label_mapping", ["ot", "random"])
def test_inputs_that_overflow_the_front_end_raise_a_clear_error(italy, label_mapping):
    X, y = italy
    with pytest.raises(NonFiniteError, match="input_scaling='standard'"):
        V2SClassifier(**ONE_EPOCH, label_mapping=label_mapping).fit(X * 1e37, y)


def test_a_module_returning_nan_raises_a_clear_error(italy):
    X, y = italy
    with pytest.raises(ValueError, match="returns finite logits"):
        V2SClassifier(**ONE_EPOCH, acoustic_model=ReturnsNaN()).fit(X, y)


def test_auto_drops_a_candidate_that_overflows(italy):
    X, y = italy
    with pytest.warns(RuntimeWarning, match="input_scaling=None was dropped"):
        clf = V2SClassifier(**{**ONE_EPOCH, "input_scaling": "auto"}).fit(X * 1e37, y)
    assert clf.input_scaling_ == "standard"
    assert np.isnan(clf.input_scaling_losses_[None])
    assert np.isfinite(clf.predict_proba(X * 1e37)).all()


class NaNWhenLoud(nn.Module):
    """Finite logits for quiet waveforms, NaN for loud ones."""

    class_names = ["a", "b", "c", "d"]

    def forward(self, waveform):
        logits = torch.stack([waveform.mean(1), waveform.std(1), waveform.amax(1),
                              waveform.amin(1)], 1)
        loud = waveform.abs().amax(1, keepdim=True) > 1e6
        return torch.where(loud, torch.nan, logits)


def test_prediction_never_returns_nan(italy):
    X, y = italy
    clf = V2SClassifier(**ONE_EPOCH, acoustic_model=NaNWhenLoud()).fit(X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    with pytest.raises(NonFiniteError, match="not finite for 1 of 4 series"):
        clf.predict_proba(np.r_[X[:3], X[:1] * 1e7])
    with pytest.raises(ValueError, match="beyond float32's range"):
        clf.predict(X * 1e300)


# ------------------------------------------------------------------ 7. user modules
class Statistics(nn.Module):
    """A source model without parameters: three statistics of the waveform."""

    def forward(self, waveform):
        return torch.stack([waveform.mean(1), waveform.std(1), waveform.abs().amax(1)], 1)


def test_a_module_without_parameters_fits_and_predicts(italy):
    X, y = italy
    clf = V2SClassifier(**ONE_EPOCH, acoustic_model=Statistics()).fit(X, y)
    assert clf.source_classes_ == ["class_0", "class_1", "class_2"]
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_a_float64_module_gives_float32_logits_in_training(italy):
    X, y = italy
    log: list = []
    torch.manual_seed(0)
    module = AttRNN([f"w{i}" for i in range(6)]).double()
    clf = V2SClassifier(**ONE_EPOCH, acoustic_model=module,
                        callbacks=[RecordRuns(log)]).fit(X, y)
    assert log[0]["logits_dtype"] == torch.float32
    assert np.isfinite(clf.predict_proba(X)).all()


def test_a_module_that_ignores_the_batch_gets_a_shape_error(italy):
    X, y = italy

    class FirstOnly(nn.Module):
        def forward(self, waveform):
            return waveform[:1, :5]

    class Named(FirstOnly):
        class_names = ["a", "b", "c", "d", "e"]

    for module in (FirstOnly(), Named()):
        with pytest.raises(ValueError, match=r"shape \(1, 5\) for a batch of"):
            V2SClassifier(**ONE_EPOCH, acoustic_model=module).fit(X, y)


# ----------------------------------------------------------- 8. pickles carry versions
def test_pickles_carry_versions_and_warn_under_another(italy):
    X, y = italy
    clf = V2SClassifier(**ONE_EPOCH).fit(X, y)
    state = clf.__getstate__()
    assert state["_v2s_version"] == v2s_sklearn.__version__
    assert state["_torch_version"] == torch.__version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pickle.loads(pickle.dumps(clf))
    state["_v2s_version"] = "0.0.1"  # what pickle.loads hands to __setstate__
    restored = V2SClassifier.__new__(V2SClassifier)
    with pytest.warns(InconsistentVersionWarning, match="from v2s-sklearn 0.0.1"):
        restored.__setstate__(state)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


# -------------------------------------------------------------------- 12. minor
def test_too_long_for_one_copy_suggests_shortening_only():
    X, y = np.zeros((4, 17000)), np.array([0, 0, 1, 1])
    X[:2] = 1.0
    with pytest.raises(ValueError, match="Even one copy does not fit") as error:
        V2SClassifier(**ONE_EPOCH, n_segments=1, resample_length=None).fit(X, y)
    assert "n_segments <=" not in str(error.value)
    # The default shrinks such a series (resample_length="auto") rather than refusing it.
    assert V2SClassifier(**ONE_EPOCH, n_segments=1).fit(X, y).placed_length_ == 128


def test_verbose_true_is_accepted(italy, capsys):
    X, y = italy
    V2SClassifier(**ONE_EPOCH, verbose=True).fit(X, y)
    assert "epoch" in capsys.readouterr().err


# -------------------------------------------- 6. models from a path are pinned
def test_a_model_file_is_stored_absolute_and_pinned_by_sha256(italy, tmp_path, monkeypatch):
    from v2s_sklearn.acoustic.checkpoint import load_checkpoint, save_checkpoint

    X, y = italy
    torch.manual_seed(0)
    names = [f"w{i}" for i in range(4)]
    save_checkpoint(AttRNN(names), tmp_path / "source.pt", "attrnn", {"class_names": names})
    monkeypatch.chdir(tmp_path)
    clf = V2SClassifier(**ONE_EPOCH, acoustic_model="source.pt").fit(X, y)
    assert clf.acoustic_model_ == str(tmp_path / "source.pt")
    assert len(clf.acoustic_model_sha256_) == 64
    blob = pickle.dumps(clf)
    monkeypatch.chdir("/")  # the relative path no longer leads there; the fitted one does
    expected = pickle.loads(blob).predict_proba(X)
    # Retrained weights at the same path: theta_ was not trained for them.
    torch.manual_seed(1)
    save_checkpoint(AttRNN(names), tmp_path / "source.pt", "attrnn", {"class_names": names})
    assert load_checkpoint(tmp_path / "source.pt") is not None  # a valid file, just another
    with pytest.raises(ValueError, match="not the one this estimator was fitted with"):
        pickle.loads(blob).predict_proba(X)
    assert np.isfinite(expected).all()


def test_given_validation_series_replace_the_split(gunpoint):
    X, y, X_val, y_val = gunpoint
    clf = V2SClassifier(max_epochs=3, batch_size=16, input_scaling="standard",
                        random_state=0).fit(X, y, X_val=X_val, y_val=y_val)
    # All of X is trained on and scaled from; the kept epoch is the best on X_val.
    np.testing.assert_allclose(clf.input_mean_[0], X.mean(axis=0), rtol=1e-5, atol=1e-6)
    assert len(clf.history_) == 3 and "valid_loss" in clf.history_[0]
    best = int(np.argmin([row["valid_loss"] for row in clf.history_]))
    assert clf.best_epoch_ == best + 1
    assert clf.history_[clf.best_epoch_ - 1]["valid_accuracy"] == pytest.approx(
        np.mean(clf.predict(X_val) == y_val), abs=1e-6)
    # validation_fraction is not drawn on: any value gives the same fit.
    other = V2SClassifier(max_epochs=3, batch_size=16, input_scaling="standard",
                          validation_fraction=0.5, random_state=0)
    # (Equal on the CPU; a GPU's kernels are not bit-for-bit repeatable.)
    np.testing.assert_allclose(other.fit(X, y, X_val=X_val, y_val=y_val).theta_, clf.theta_,
                               atol=1e-3)


def test_validation_series_a_subset_of_classes_is_fine(gunpoint):
    X, y, X_val, y_val = gunpoint
    only = y_val == y_val[0]
    clf = V2SClassifier(max_epochs=2, batch_size=16, input_scaling=None, random_state=0)
    clf.fit(X, y, X_val=X_val[only], y_val=y_val[only])
    assert clf.best_validation_score_ is not None


@pytest.mark.parametrize("change, message", [
    (lambda X_val, y_val: (X_val, None), "pass both or neither"),
    (lambda X_val, y_val: (X_val[:, :50], y_val), "X_val does not match X"),
    (lambda X_val, y_val: (X_val, y_val[:3]), "one label per series"),
    (lambda X_val, y_val: (X_val[:0], y_val[:0]), "holds no series"),
    (lambda X_val, y_val: (X_val, np.full(len(y_val), "unseen")), "labels that y does not"),
])
def test_bad_validation_series_are_refused(gunpoint, change, message):
    X, y, X_val, y_val = gunpoint
    X_val, y_val = change(X_val, y_val)
    with pytest.raises(ValueError, match=message):
        V2SClassifier(max_epochs=1, input_scaling=None).fit(X, y, X_val=X_val, y_val=y_val)
