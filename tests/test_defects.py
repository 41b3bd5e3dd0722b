"""Defects found by a review and a probe (issue 26, point 4; issue 28, points 3 and 6):
each test failed on the code before the lean core and passes after."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import v2s_sklearn
from v2s_sklearn import V2SClassifier
from v2s_sklearn.callbacks import Callback, PlateauSchedule
from v2s_sklearn.datasets import load_dataset

FAST = {"max_epochs": 2, "batch_size": 64, "input_scaling": None, "random_state": 0,
        "device": "cpu", "n_segments": 1}


@pytest.fixture(scope="module")
def italy():
    X, y = load_dataset("ItalyPowerDemand", "train")
    return X, y


class Raises(Callback):
    """Raises ``error`` at the end of epoch ``at``."""

    def __init__(self, error: BaseException, at: int = 1) -> None:
        self.error, self.at = error, at

    def on_epoch_end(self, run):
        if run.epoch == self.at:
            raise self.error


# ------------------------------------------------- 4.1 a failed fit leaves it unfitted
@pytest.mark.parametrize("failure", ["callback", "one class", "1e39", "X_val"])
def test_a_failed_refit_leaves_the_estimator_unfitted(italy, failure):
    X, y = italy
    clf = V2SClassifier(**FAST).fit(X, y)
    with pytest.raises((ValueError, RuntimeError)):
        if failure == "callback":
            clf.set_params(callbacks=[Raises(RuntimeError("boom"))]).fit(X, y)
        elif failure == "one class":
            clf.fit(X, np.zeros(len(y)))
        elif failure == "1e39":
            clf.fit(X * 1e39, y)
        else:
            clf.fit(X, y, X_val=X[:5, :10], y_val=y[:5])
    with pytest.raises(NotFittedError):
        clf.predict(X[:2])


# ------------------------------------- 4.2 warnings point at the user's line
def test_warnings_point_at_the_callers_line(italy):
    X, y = italy
    with pytest.warns(ConvergenceWarning) as record:
        V2SClassifier(**{**FAST, "max_epochs": 1}).fit(X, y)
    assert record[0].filename == __file__


def test_the_missing_gpu_warning_points_at_the_callers_line(italy):
    if torch.cuda.is_available():
        pytest.skip("needs a machine without CUDA")
    X, y = italy
    clf = V2SClassifier(**FAST).fit(X, y)
    clf.device_ = torch.device("cuda")  # as if unpickled from a GPU machine
    with pytest.warns(RuntimeWarning, match="CUDA is not available") as record:
        clf.predict(X[:3])
    assert record[0].filename == __file__


# --------------------------------------------------- 4.3 stopping is sticky
class Unstop(Callback):
    def on_epoch_end(self, run):
        run.stop_training = False


def test_a_callback_cannot_undo_early_stopping(italy):
    X, y = italy
    clf = V2SClassifier(**{**FAST, "max_epochs": 30, "n_iter_no_change": 1,
                           "learning_rate": 5.0, "callbacks": [Unstop()]}).fit(X, y)
    assert clf.n_iter_ < 30


# ------------------------------- 4.4 a fitted estimator holds no training state
def _tensors_and_optimizers(obj, seen=None):
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, (torch.Tensor, torch.optim.Optimizer,
                        torch.optim.lr_scheduler.ReduceLROnPlateau)):
        return [obj]
    children = []
    if isinstance(obj, dict):
        children = list(obj.values())
    elif isinstance(obj, (list, tuple)):
        children = list(obj)
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        children = list(vars(obj).values())
    return [found for child in children for found in _tensors_and_optimizers(child, seen)]


def test_callbacks_keep_no_optimizer_or_device_tensor(italy):
    X, y = italy
    clf = V2SClassifier(**FAST).fit(X, y)
    assert any(isinstance(c, PlateauSchedule) for c in clf.callbacks_)
    assert _tensors_and_optimizers(clf.callbacks_) == []


# ------------------------------------------ 4.5 optimizers and their options
def test_an_optimizer_that_needs_a_closure_is_refused_before_training(italy):
    X, y = italy
    with pytest.raises(ValueError, match="LBFGS needs a closure"):
        V2SClassifier(**FAST, optimizer=torch.optim.LBFGS).fit(X, y)
    with pytest.raises(NotFittedError):
        V2SClassifier(**FAST, optimizer=torch.optim.LBFGS).predict(X)


class NoDecay(torch.optim.SGD):
    """An optimizer without a weight_decay option."""

    def __init__(self, params, lr=0.01):
        super().__init__(params, lr=lr)


def test_weight_decay_reaches_only_an_optimizer_that_takes_it(italy):
    X, y = italy
    V2SClassifier(**FAST, optimizer=NoDecay).fit(X, y)  # weight_decay=0 is not passed
    with pytest.raises(ValueError, match="NoDecay takes no weight_decay"):
        V2SClassifier(**FAST, optimizer=NoDecay, weight_decay=0.1).fit(X, y)


# ------------------------------------------ 4.6 Ctrl-C keeps the best theta so far
def test_an_interrupted_fit_keeps_the_best_epoch_and_warns(italy):
    X, y = italy
    clf = V2SClassifier(**{**FAST, "max_epochs": 10,
                           "callbacks": [Raises(KeyboardInterrupt(), at=3)]})
    with pytest.warns(UserWarning, match="interrupted"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and 1 <= clf.best_epoch_ <= 3
    assert clf.predict(X[:4]).shape == (4,)


class InterruptsAtBegin(Callback):
    def on_train_begin(self, run):
        raise KeyboardInterrupt


def test_an_interrupt_before_any_epoch_propagates_and_leaves_it_unfitted(italy):
    X, y = italy
    clf = V2SClassifier(**{**FAST, "callbacks": [InterruptsAtBegin()]})
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X, y)
    with pytest.raises(NotFittedError):
        clf.predict(X[:2])


# --------------------------------- 4.7 series too quiet or too loud are named
@pytest.mark.parametrize("factor, word", [(1e-30, "silence"), (1e8, "drown"), (1e30, "drown")])
def test_series_placed_as_given_that_cannot_matter_are_warned_about(italy, factor, word):
    X, y = italy
    with pytest.warns(UserWarning, match=word):
        V2SClassifier(**FAST).fit(X * factor, y)


def test_ordinary_series_placed_as_given_are_not_warned_about(italy):
    X, y = italy
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        V2SClassifier(**{**FAST, "n_iter_no_change": 1}).fit(X, y)


# ------------------------------------------ 4.11 shapes and labels
def test_a_4d_X_is_refused_with_the_shapes_that_work(italy):
    X, y = italy
    with pytest.raises(ValueError, match="pass 2-D .* or 3-D"):
        V2SClassifier(**FAST).fit(X.reshape(len(X), 1, 2, -1), y)


@pytest.mark.parametrize("labels, message", [
    (lambda y: np.where(np.arange(len(y)) == 0, None, y).astype(object), "holds None"),
    (lambda y: np.array([1 if v == y[0] else "b" for v in y], dtype=object), "mixes"),
])
def test_unusable_labels_are_refused_naming_the_label_types_that_work(italy, labels, message):
    X, y = italy
    with pytest.raises(ValueError, match=f"{message}.*all strings, all integers"):
        V2SClassifier(**FAST).fit(X, labels(y))


# ------------------------------------------ 4.12 best_validation_score_
def test_best_validation_score_is_the_best_validation_accuracy(italy):
    X, y = italy
    clf = V2SClassifier(**{**FAST, "max_epochs": 6, "validation_fraction": 0.3,
                           "n_iter_no_change": None}).fit(X, y)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


# ------------------------------------------ 4.13 dead code and stale docstrings
def test_dead_code_is_gone_and_docstrings_describe_the_present():
    from v2s_sklearn import classifier, scaling, spectral, train_step, training

    assert not hasattr(classifier, "INPUT_SCALINGS") and not hasattr(scaling, "SCALINGS")
    assert "stop_reason" not in training.TrainingRun.__dataclass_fields__
    assert "LSTM" not in train_step.__doc__ and "LSTM" not in spectral.__doc__
    assert '"auto"' not in spectral.ReprogrammedModel.__doc__
    doc = V2SClassifier.__doc__
    for name in ("learning_rate", "weight_decay"):
        entry = doc[doc.index(f"    {name} :"):].split("\n    ", 2)[1]
        assert "Adam" not in entry


# ------------------------------------------ issue 28: warnings true and said once
def test_auto_scaling_warns_at_most_once_per_fit(italy):
    X, y = italy
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        V2SClassifier(**{**FAST, "input_scaling": "auto", "max_epochs": 1}).fit(X, y)
    assert sum(issubclass(w.category, ConvergenceWarning) for w in record) == 1


def test_no_convergence_warning_when_an_early_epoch_was_kept(italy):
    X, y = italy
    kept_first = V2SClassifier(**{**FAST, "max_epochs": 4, "learning_rate": 50.0,
                                  "learning_rate_schedule": "constant",
                                  "n_iter_no_change": None})
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        kept_first.fit(X, y)
    if kept_first.best_epoch_ == kept_first.n_iter_:
        pytest.skip("the last epoch happened to be the best")
    assert not any(issubclass(w.category, ConvergenceWarning) for w in record)


def test_read_only_arrays_raise_no_torch_warning(italy):
    from v2s_sklearn.explain import saliency

    X, y = italy
    clf = V2SClassifier(**FAST).fit(X, y)
    # As after joblib.load(..., mmap_mode="r"): fitted arrays and X are read-only.
    for name in ("theta_", "label_weights_", "input_mean_", "input_scale_"):
        getattr(clf, name).flags.writeable = False
    X = np.array(X[:5])
    X.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.predict_proba(X)
        saliency(clf, X)


# ------------------------------------------ issue 28: small things
def test_label_map_keys_are_plain_labels(italy):
    X, y = italy
    clf = V2SClassifier(**FAST).fit(X, y)
    assert all(type(key) is str for key in clf.label_map_)
    assert "np.str_" not in repr(clf.label_map_)


def test_verbose_2_without_validation_prints_no_nan(italy, capsys):
    X, y = italy
    V2SClassifier(**{**FAST, "verbose": 2, "validation_fraction": 0}).fit(X, y)
    captured = capsys.readouterr()
    assert "train_loss=" in captured.out + captured.err
    assert "nan" not in captured.out + captured.err


def test_public_names():
    assert set(v2s_sklearn.__all__) >= {"V2SClassifier", "load_acoustic_model"}


def test_a_torchscript_model_loads_without_torch_s_notice(tmp_path):
    class Linear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(16000, 4)

        def forward(self, x):
            return self.layer(x)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit.script is deprecated
        torch.jit.script(Linear()).save(str(tmp_path / "scripted.pt"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = v2s_sklearn.load_acoustic_model(tmp_path / "scripted.pt")
    assert model.n_classes == 4


def test_sktime_parameter_errors_name_the_sktime_class():
    from sktime.datasets import load_basic_motions

    from v2s_sklearn.sktime import V2STimeSeriesClassifier

    X, y = load_basic_motions(split="train", return_type="numpy3D")
    with pytest.raises(ValueError, match="of V2STimeSeriesClassifier must be") as error:
        V2STimeSeriesClassifier(max_epochs=0).fit(X[::5], y[::5])  # every class
    assert "_Padded" not in str(error.value)


def test_both_estimators_take_the_parameters_of_one_definition():
    import inspect

    from v2s_sklearn.params import PARAMETERS
    from v2s_sklearn.sktime import V2STimeSeriesClassifier

    names = [param.name for param in PARAMETERS]
    assert list(inspect.signature(V2SClassifier).parameters) == names
    assert list(inspect.signature(V2STimeSeriesClassifier).parameters) == names
    assert V2SClassifier._get_param_names() == sorted(names)
    for param in PARAMETERS:  # documented in both docstrings, from the same entry
        assert param.doc in V2SClassifier.__doc__ and param.doc in V2STimeSeriesClassifier.__doc__
    assert V2SClassifier("v2sa-synth", 2).get_params()["n_segments"] == 2  # positional too


# ------------------------------------------ issue 26, point 1: what was removed is gone
@pytest.mark.parametrize("option", [{"mixup_alpha": 0.2}, {"scaling_trial_epochs": 5},
                                    {"input_transform": "fm"}])
def test_removed_parameters_are_refused(option):
    with pytest.raises(TypeError, match="unexpected keyword"):
        V2SClassifier(**option)


def test_removed_options_and_modules_are_gone(italy):
    import importlib

    from v2s_sklearn import ensemble, label_mapping

    X, y = italy
    assert "iterative" not in label_mapping.LABEL_MAPPINGS
    with pytest.raises(ValueError, match="label_mapping"):
        V2SClassifier(**FAST, label_mapping="iterative").fit(X, y)
    assert not hasattr(ensemble, "CVEnsembleClassifier")
    assert not {"crepe-tiny", "crepe-full"} & set(v2s_sklearn.available_models())
    for module in ("v2s_sklearn.sonification", "v2s_sklearn.benchmark",
                   "v2s_sklearn.acoustic.crepe"):
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(module)


def test_an_interrupt_ends_the_whole_auto_fit_not_one_candidate(italy):
    X, y = italy
    clf = V2SClassifier(**{**FAST, "input_scaling": "auto", "max_epochs": 10,
                           "callbacks": [Raises(KeyboardInterrupt(), at=2)]})
    with pytest.warns(UserWarning, match="interrupted") as record:
        clf.fit(X, y)
    assert sum("interrupted" in str(w.message) for w in record) == 1
    assert clf.input_scaling_ is None and clf.n_iter_ == 2
    assert np.isnan(clf.input_scaling_losses_["standard"])  # never started
