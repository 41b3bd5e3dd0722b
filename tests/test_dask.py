"""V2S on a Dask cluster: searches and ``v2s benchmark --dask`` give the serial results.

One LocalCluster of two single-threaded worker processes serves the module. The
serial references run with one torch thread, as the workers' fits do
(``v2s_sklearn.parallel``): float32 training depends on the thread count.
"""

from __future__ import annotations

import functools
import os
import pickle
import sys
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
import torch

distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed: pip install 'v2s-sklearn[dask]'")

import dask
from sklearn.base import clone
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    StratifiedKFold,
    cross_val_score,
)

from tests.conftest import FAST
from v2s_sklearn import V2SClassifier
from v2s_sklearn.benchmarking import (
    CSV_COLUMNS,
    METHODS,
    BenchmarkConfig,
    BenchmarkTaskError,
    Method,
    run_benchmark,
    run_benchmark_dask,
    run_task,
)
from v2s_sklearn.benchmarking.cluster import parse_address
from v2s_sklearn.cli import main as v2s
from v2s_sklearn.parallel import (
    MALLOC_PLUGIN_NAME,
    PLUGIN_NAME,
    MallocThresholds,
    TorchThreads,
    task_threads,
    torch_threads,
)
from v2s_sklearn.callbacks import Callback

#: One epoch, one candidate scaling, no validation split: the quickest real fit.
QUICK = {**FAST, "max_epochs": 1, "input_scaling": None, "device": "cpu"}
DATASETS = ["ItalyPowerDemand", "GunPoint"]
BENCH = BenchmarkConfig(max_epochs=1, max_train=12, max_test=20)


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each; a task whose worker dies fails at once."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client


def _read(path):
    return pd.read_csv(path, dtype={"dataset": str, "method": str})


def _accuracies(table):
    return table.set_index(["dataset", "method"])["accuracy"].sort_index()


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    """The serial benchmark of ``v2s`` on DATASETS, one torch thread per fit."""
    output = tmp_path_factory.mktemp("serial") / "serial.csv"
    with torch_threads(1):
        run_benchmark(DATASETS, ["v2s"], output, config=BENCH, log=lambda line: None)
    return _read(output)


# ------------------------------------------------------------------ threads
class _ThreadsSeen(Callback):
    def on_train_begin(self, run):
        self.threads = torch.get_num_threads()


def _threads_in_fit(X, y):
    """(share, torch threads inside fit, after it), the task's thread set to 2 before."""
    torch.set_num_threads(2)  # as torch would start outside Dask's nanny on 2 cores
    try:
        clf = V2SClassifier(**QUICK, callbacks=[_ThreadsSeen()]).fit(X, y)
        return task_threads(), clf.callbacks_[-1].threads, torch.get_num_threads()
    finally:
        torch.set_num_threads(1)


def test_outside_a_worker_nothing_changes():
    before = torch.get_num_threads()
    assert task_threads() is None
    with torch_threads(None):
        assert torch.get_num_threads() == before
    with torch_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_a_fit_on_a_worker_uses_its_share_of_threads(client, italy):
    X, y = italy
    # The fit keeps to the worker's share, and leaves the task's setting as it found it.
    assert client.submit(_threads_in_fit, X, y, pure=False).result() == (1, 1, 2)
    # A worker told it has more cores than threads gives each task its share (not
    # fitted with: two threads on this loaded 2-core machine take minutes).
    client.register_plugin(TorchThreads(cores=2))
    try:
        assert client.submit(task_threads, pure=False).result() == 2
    finally:
        client.unregister_worker_plugin(PLUGIN_NAME)
    with pytest.raises(ValueError, match="cores must be >= 1"):
        TorchThreads(cores=0)


def _malloc_state(dask_worker=None):
    """The worker's ``MALLOC_TRIM_THRESHOLD_`` and what its malloc plugin did, if any
    (``client.run`` passes ``dask_worker``; a task finds its own)."""
    worker = dask_worker if dask_worker is not None else distributed.get_worker()
    plugin = worker.plugins.get(MALLOC_PLUGIN_NAME)
    return os.environ.get("MALLOC_TRIM_THRESHOLD_"), getattr(plugin, "restored", None)


def test_a_worker_gets_glibc_malloc_limits_back_from_the_plugin_only(client, italy):
    # Dask's nanny fixes MALLOC_TRIM_THRESHOLD_, which slows fits (docs/dask.md).
    # A fit leaves the process alone (tests/test_parallel.py); the opt-in plugin
    # restores glibc's limits on every worker.
    X, y = italy
    client.submit(V2SClassifier(**QUICK).fit, X, y, pure=False).result()
    assert client.submit(_malloc_state, pure=False).result()[1] is None
    client.register_plugin(MallocThresholds())
    try:
        states = client.run(_malloc_state)
    finally:
        client.unregister_worker_plugin(MALLOC_PLUGIN_NAME)
    assert len(states) == 2
    assert all(trim is not None and restored is True for trim, restored in states.values())


def test_malloc_limits_are_left_alone_without_the_variable():
    import subprocess

    code = ("import v2s_sklearn.parallel as p; "
            "print(p.restore_malloc_thresholds(), p.restore_malloc_thresholds())")
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"}
    plain = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    fixed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={**env, "MALLOC_TRIM_THRESHOLD_": "65536"}
                           ).stdout.split()
    assert plain == ["False", "False"]
    assert fixed == (["True", "True"] if sys.platform.startswith("linux") else
                     ["False", "False"])


# ---------------------------------------------------------------- searches
def _assert_same_search(serial_search, dask_search):
    expected, found = serial_search.cv_results_, dask_search.cv_results_
    assert expected["params"] == found["params"]
    for key in expected:
        if key.endswith("_score") or key.startswith("rank_"):  # not the times
            np.testing.assert_array_equal(expected[key], found[key], err_msg=key)
    assert serial_search.best_params_ == dask_search.best_params_


def test_grid_search_on_dask_equals_serial(client, italy):
    X, y = italy
    search = GridSearchCV(V2SClassifier(**QUICK), {"dropout": [0.0, 0.3]},
                          cv=StratifiedKFold(2, shuffle=True, random_state=0),
                          scoring="neg_log_loss")
    with torch_threads(1):  # the refit runs here, the fold fits on the workers
        expected = clone(search).fit(X, y)
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            found = clone(search).fit(X, y)
    assert stream.data, "no task ran on the cluster"
    _assert_same_search(expected, found)
    np.testing.assert_array_equal(expected.best_estimator_.theta_, found.best_estimator_.theta_)


def test_halving_search_and_cross_val_score_on_dask_equal_serial(client, italy):
    X, y = italy
    halving = HalvingGridSearchCV(V2SClassifier(**QUICK), {"dropout": [0.0, 0.3]},
                                  cv=StratifiedKFold(2, shuffle=True, random_state=0),
                                  factor=2, min_resources=10, random_state=0)
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    with torch_threads(1):
        expected = clone(halving).fit(X, y)
        expected_scores = cross_val_score(V2SClassifier(**QUICK), X, y, cv=cv)
        with joblib.parallel_backend("dask"):
            found = clone(halving).fit(X, y)
            found_scores = cross_val_score(V2SClassifier(**QUICK), X, y, cv=cv)
    _assert_same_search(expected, found)
    assert list(found.n_resources_) == [10, 20]
    np.testing.assert_array_equal(expected_scores, found_scores)


def test_the_sktime_adapter_searches_on_dask_as_serially(client, italy):
    # sktime's estimators are not scikit-learn's (no __sklearn_tags__ under
    # scikit-learn 1.6+): sktime's own search, on the default Dask client.
    from sktime.classification.model_selection import TSCGridSearchCV

    from v2s_sklearn.sktime import V2STimeSeriesClassifier

    X, y = italy
    X = X[:, None, :]  # sktime's numpy3D
    kwargs = {"param_grid": {"dropout": [0.0, 0.3]},
              "cv": StratifiedKFold(2, shuffle=True, random_state=0)}
    with torch_threads(1):
        expected = TSCGridSearchCV(V2STimeSeriesClassifier(**QUICK), **kwargs).fit(X, y)
        with distributed.get_task_stream(client) as stream:
            found = TSCGridSearchCV(V2STimeSeriesClassifier(**QUICK), **kwargs,
                                    backend="dask").fit(X, y)
    assert stream.data, "no task ran on the cluster"
    columns = [c for c in pd.DataFrame(expected.cv_results_) if "time" not in c]
    pd.testing.assert_frame_equal(pd.DataFrame(expected.cv_results_)[columns],
                                  pd.DataFrame(found.cv_results_)[columns])
    assert expected.best_params_ == found.best_params_
    np.testing.assert_array_equal(expected.predict_proba(X), found.predict_proba(X))


# ---------------------------------------------------------------- devices
def _unpickle_and_predict(blob, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fitted device it cannot use would warn
        return pickle.loads(blob).predict_proba(X)


def _torch_objects(value, seen=None):
    """Every torch tensor or device reachable from ``value`` (lists, dicts, attributes)."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, (torch.Tensor, torch.device)):
        return [value]
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, (list, tuple, set)):
        items = list(value)
    elif hasattr(value, "__dict__") and not isinstance(value, type):
        items = list(vars(value).values())
    else:
        return []
    return [found for item in items for found in _torch_objects(item, seen)]


def test_an_auto_device_fit_pickles_without_device_state(client, italy):
    X, y = italy
    clf = V2SClassifier(**{**QUICK, "device": "auto"}).fit(X, y)
    expected = clf.predict_proba(X)
    # As if fitted on a GPU: prediction must not follow the fit's device.
    clf.device_ = torch.device("cuda")
    state = pickle.loads(pickle.dumps(clf)).__dict__
    found = [(name, obj) for name, value in state.items() for obj in _torch_objects(value)]
    # The only torch object is device_, a plain descriptor: no tensor, CUDA or not.
    assert [name for name, _ in found] == ["device_"]
    assert not any(isinstance(obj, torch.Tensor) for _, obj in found)
    blob = pickle.dumps(clf)
    proba = client.submit(_unpickle_and_predict, blob, X, pure=False).result()
    np.testing.assert_allclose(proba, expected, rtol=0, atol=1e-12)


# ---------------------------------------------------------------- benchmark
def test_benchmark_on_dask_equals_serial(client, serial, tmp_path, capsys):
    output = tmp_path / "dask.csv"
    v2s(["benchmark", "--dask", client.scheduler.address, "--datasets", ",".join(DATASETS),
         "--methods", "v2s", "--output", str(output), "--max-epochs", "1",
         "--max-train", "12", "--max-test", "20"])
    table = _read(output)
    assert tuple(table.columns) == CSV_COLUMNS
    pd.testing.assert_series_equal(_accuracies(table), _accuracies(serial))
    assert (table["fit_seconds"] > 0).all() and (table["predict_seconds"] > 0).all()
    out = capsys.readouterr().out
    assert out.count(" v2s: accuracy ") == 2 and "on tcp://" in out
    report = output.with_suffix(".md").read_text()
    assert "timed on the worker that ran it (Dask cluster at" in report
    assert "torch threads per task 1" in report


@pytest.mark.filterwarnings("ignore:no stratified validation split")
def test_a_search_task_spreads_its_fits_over_the_cluster(client):
    config = BenchmarkConfig(max_epochs=1, max_train=12, max_test=20, search_dropout=[0.0, 0.3],
                             search_segments=[1], search_folds=2)
    search = METHODS["v2s-search"]
    with torch_threads(1):
        expected = run_task("ItalyPowerDemand", search, config)
    with distributed.get_task_stream(client) as stream:
        found = client.submit(run_task, "ItalyPowerDemand", search, config, pure=False).result()
    assert found["row"]["accuracy"] == expected["row"]["accuracy"]
    assert found["note"] == expected["note"]
    # the benchmark task, and the search's (candidate, fold) fits as tasks of their own
    fits = [t for t in stream.data if "fit_and_score" in str(t["key"])]
    assert fits, sorted({str(t["key"]) for t in stream.data})


def test_dask_addresses_and_their_errors(tmp_path, monkeypatch):
    assert parse_address("local:3") == (None, 3)
    assert parse_address("tcp://10.0.0.1:8786") == ("tcp://10.0.0.1:8786", None)
    assert parse_address("local")[1] >= 1
    with pytest.raises(SystemExit, match="local:N needs N >= 1"):
        v2s(["benchmark", "--dask", "local:0", "--output", str(tmp_path / "x.csv")])
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(SystemExit, match=r"pip install 'v2s-sklearn\[dask\]'"):
        v2s(["benchmark", "--dask", "local", "--output", str(tmp_path / "x.csv")])


def _boom(config, X, y):
    raise RuntimeError("no fit today")


def test_a_task_error_names_its_dataset_and_method(client, tmp_path):
    boom = Method("boom", "raises", _boom, "v2s")
    with pytest.raises(BenchmarkTaskError, match="^ItalyPowerDemand boom: RuntimeError: no "
                                                 "fit today$") as error:
        run_task("ItalyPowerDemand", boom, BENCH)
    again = pickle.loads(pickle.dumps(error.value))  # as it crosses from a worker
    assert (again.dataset, again.method, str(again)) == (
        "ItalyPowerDemand", "boom", str(error.value))

    outcome = run_benchmark_dask(client, ["NoSuchDataset"], ["v2s"], tmp_path / "r.csv",
                                 config=BENCH, log=lambda line: None)
    [(dataset, method, message)] = outcome.failures
    assert (dataset, method) == ("NoSuchDataset", "v2s") and message.startswith("loading: ")


def _build_crashing(flag, config, X, y):
    """``v2s``, except that it kills its worker on GunPoint (length 150) while ``flag`` exists."""
    if os.path.exists(flag) and X.shape[-1] == 150:
        os._exit(1)
    return V2SClassifier(**config.v2s_params())


def test_a_killed_worker_loses_no_finished_row_and_resume_finishes(client, serial, tmp_path,
                                                                   monkeypatch):
    flag = tmp_path / "crash"
    flag.touch()
    crash = Method("v2s-crash", "v2s, killing its worker on GunPoint",
                   functools.partial(_build_crashing, str(flag)), "v2s")
    monkeypatch.setitem(METHODS, crash.name, crash)
    output = tmp_path / "r.csv"
    lines = []
    first = run_benchmark_dask(client, DATASETS, ["v2s", "v2s-crash"], output, config=BENCH,
                               log=lines.append)
    failed = {(d, m): message for d, m, message in first.failures}
    assert ("GunPoint", "v2s-crash") in failed
    assert "KilledWorker" in failed[("GunPoint", "v2s-crash")]
    assert "GunPoint v2s-crash" in failed[("GunPoint", "v2s-crash")]  # the task's key
    done = _read(output)
    assert len(done) >= 1 and len(done) + len(failed) == 4
    # every row that reached the disk is the serial result (v2s-crash fits as v2s does)
    reference = serial.set_index("dataset")["accuracy"]
    assert all(row.accuracy == reference[row.dataset] for row in done.itertuples())

    flag.unlink()
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the killed one
    second = run_benchmark_dask(client, DATASETS, ["v2s", "v2s-crash"], output, config=BENCH,
                                resume=True, log=lambda line: None)
    assert not second.failures
    table = _read(output)
    pd.testing.assert_frame_equal(table.iloc[:len(done)], done)  # kept as it was
    assert sorted(zip(table["dataset"], table["method"])) == sorted(
        (d, m) for d in DATASETS for m in ("v2s", "v2s-crash"))
    assert all(row.accuracy == reference[row.dataset] for row in table.itertuples())


def test_a_lost_cluster_keeps_its_rows_and_resume_finishes(client, serial, tmp_path):
    output = tmp_path / "r.csv"
    # One worker, so the second task has not finished when the first row arrives; in
    # this process, so it starts at once (a thread left fitting ends on its own).
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as doomed, \
            distributed.Client(doomed, set_as_default=False) as doomed_client:

        def close_on_first_row(line):
            if "accuracy" in line:
                doomed.close()

        first = run_benchmark_dask(doomed_client, DATASETS, ["v2s"], output, config=BENCH,
                                   log=close_on_first_row)
    assert [(d, m) for d, m, _ in first.failures] == [("GunPoint", "v2s")]
    assert "the cluster went away" in first.failures[0][2]
    assert "rerun with --resume" in first.failures[0][2]
    assert list(_read(output)["dataset"]) == ["ItalyPowerDemand"]

    second = run_benchmark_dask(client, DATASETS, ["v2s"], output, config=BENCH, resume=True,
                                log=lambda line: None)
    assert not second.failures
    pd.testing.assert_series_equal(_accuracies(_read(output)), _accuracies(serial))
