"""TrainStep: eager steps everywhere, CUDA-graph replays on a GPU giving the same gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import v2s_sklearn.training as training_module
from v2s_sklearn import V2SClassifier, load_acoustic_model
from v2s_sklearn.label_mapping import mapping_matrix, random_label_map, target_log_proba
from v2s_sklearn.reprogram import Reprogrammer
from v2s_sklearn.spectral import ReprogrammedModel
from v2s_sklearn.train_step import TrainStep, graphs_supported

from .conftest import FAST

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _problem(gunpoint, device, spectral):
    """The reprogrammed built-in model on GunPoint rows and a step function over them."""
    X_train, y_train, _, _ = gunpoint
    model = load_acoustic_model(device=device)
    reprogrammer = Reprogrammer(model.input_length, X_train.shape[-1], 1, 2, False, 0.0)
    reprogrammer = reprogrammer.to(device)
    with torch.no_grad():  # a theta that is not zero, so gradients differ per batch
        reprogrammer.theta.normal_(0, 0.01, generator=torch.Generator(device).manual_seed(0))
    network = ReprogrammedModel(model, reprogrammer, spectral=spectral)
    X = torch.as_tensor(X_train[:, None], dtype=torch.float32, device=device)
    y = torch.as_tensor(np.unique(y_train, return_inverse=True)[1], device=device)
    label_map = random_label_map(model.n_classes, 2, 3, np.random.default_rng(0))
    matrix = mapping_matrix(label_map, model.n_classes).to(device)
    spectra = network.cache_series_spectra(X)

    def compute(rows):
        cached = None if spectra is None else spectra[rows]
        log_proba = target_log_proba(network(X[rows], None, cached), matrix)
        loss = F.nll_loss(log_proba, y[rows])
        return loss, (loss.detach() * len(rows),)

    return reprogrammer.theta, compute


def test_graphs_are_for_cuda_devices_only():
    assert not graphs_supported(torch.device("cpu"))
    assert graphs_supported(torch.device("cuda")) == torch.cuda.is_available()


def test_an_eager_step_leaves_the_batch_gradient_and_returns_its_stats(gunpoint):
    theta, compute = _problem(gunpoint, torch.device("cpu"), spectral=True)
    rows = torch.tensor([0, 3, 5, 7])
    loss, _ = compute(rows)
    (expected,) = torch.autograd.grad(loss, theta)
    theta.grad = torch.full_like(theta, 7.0)  # stale gradient from an earlier step
    step = TrainStep(compute, [theta], graphed=False)
    (summed_loss,) = step(rows)
    torch.testing.assert_close(theta.grad, expected)  # replaced, not accumulated
    torch.testing.assert_close(summed_loss, loss.detach() * 4)
    assert not step.graphed


@needs_cuda
@pytest.mark.parametrize("spectral", [False, True])
def test_graph_replays_give_the_eager_gradients_for_each_batch_size(gunpoint, spectral):
    device = torch.device("cuda")
    theta, compute = _problem(gunpoint, device, spectral)
    graphed = TrainStep(compute, [theta], graphed=True)
    eager = TrainStep(compute, [theta], graphed=False)
    batches = [torch.arange(0, 8, device=device), torch.arange(8, 12, device=device),
               torch.arange(2, 10, device=device), torch.arange(4, 8, device=device)]
    for rows in batches:  # two batch sizes, each replayed with new rows
        (loss_graphed,) = graphed(rows)
        grad_graphed = theta.grad.clone()
        loss_graphed = loss_graphed.clone()
        (loss_eager,) = eager(rows)
        torch.testing.assert_close(grad_graphed, theta.grad, rtol=1e-4, atol=1e-7)
        torch.testing.assert_close(loss_graphed, loss_eager, rtol=1e-5, atol=1e-6)
        with torch.no_grad():
            theta.add_(theta.grad, alpha=-0.1)  # the graph must read theta's new values
    assert graphed.graphed and len(graphed._graphs) == 2


@needs_cuda
def test_a_failed_capture_falls_back_to_eager_steps_with_a_warning():
    device = torch.device("cuda")
    theta = torch.nn.Parameter(torch.ones(4, device=device))

    def compute(rows):
        loss = (theta[rows] ** 2).sum()
        if torch.cuda.is_current_stream_capturing():
            loss.item()  # a host sync: not allowed while a graph is captured
        return loss, (loss.detach(),)

    step = TrainStep(compute, [theta], graphed=True)
    with pytest.warns(RuntimeWarning, match="CUDA graph capture failed"):
        (loss,) = step(torch.tensor([0, 1], device=device))
    assert not step.graphed
    assert float(loss) == 2.0
    torch.testing.assert_close(theta.grad, torch.tensor([2.0, 2.0, 0.0, 0.0], device=device))


@needs_cuda
def test_a_graphed_fit_matches_an_eager_fit(gunpoint, monkeypatch):
    X_train, y_train, X_test, _ = gunpoint
    graphed = V2SClassifier(device="cuda", **FAST).fit(X_train, y_train)
    monkeypatch.setattr(training_module, "graphs_supported", lambda device: False)
    eager = V2SClassifier(device="cuda", **FAST).fit(X_train, y_train)
    # Adam scales each coordinate's step to about the learning rate whatever the
    # gradient's size, so float rounding can move coordinates whose gradient
    # is near zero: theta agrees as a whole, the predictions closely.
    difference = np.linalg.norm(graphed.theta_ - eager.theta_) / np.linalg.norm(eager.theta_)
    assert difference < 0.02
    np.testing.assert_allclose(graphed.predict_proba(X_test), eager.predict_proba(X_test),
                               atol=2e-3)
    assert [row["train_loss"] for row in graphed.history_] == pytest.approx(
        [row["train_loss"] for row in eager.history_], rel=2e-3)
