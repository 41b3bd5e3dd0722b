"""The forward and backward pass of one training step, eager or replayed from a CUDA graph.

A V2S step on a GPU at the estimator's batch of 32 is a chain of a few hundred
small kernels (front end, convolutions, pooling, the label map and their
backward): launching them costs more than their arithmetic. Every
step of a fit has the same shapes (full batches, then one fixed remainder), so
each shape's step is captured once as a CUDA graph and replayed, one launch a
step. The optimizer step stays eager, so learning-rate schedules work as usual.
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import torch

#: ``compute(batch) -> (loss, stats)``: the loss to backpropagate and a tuple
#: of tensors the caller accumulates (say, summed loss and correct count).
StepFunction = Callable[[torch.Tensor], tuple[torch.Tensor, tuple[torch.Tensor, ...]]]

WARMUP_STEPS = 3  # eager runs on a side stream before capture, as CUDA graphs require


def graphs_supported(device: torch.device) -> bool:
    """CUDA graphs need a CUDA device; everything else runs eagerly."""
    return device.type == "cuda" and torch.cuda.is_available()


class TrainStep:
    """Compute a step's gradients into ``parameters[i].grad`` and return its stats.

    Parameters
    ----------
    compute : callable
        ``compute(batch) -> (loss, stats)`` for a tensor of row indices
        ``batch``; it must read every other input from tensors that stay in
        place during the fit (a CUDA graph records addresses, not values), and
        draw no random numbers when graphed.
    parameters : sequence of torch.nn.Parameter
        The trainable tensors; their ``.grad`` holds the step's gradients
        after each call, ready for ``optimizer.step()``.
    graphed : bool
        Capture one CUDA graph per batch size and replay it. Falls back to
        eager steps, with a warning, if a capture fails.

    Attributes
    ----------
    graphed : bool
        Whether steps are (still) replayed from graphs.
    """

    def __init__(self, compute: StepFunction, parameters: Sequence[torch.nn.Parameter],
                 graphed: bool) -> None:
        self.compute = compute
        self.parameters = list(parameters)
        self.graphed = graphed
        self._graphs: dict[int, tuple] = {}

    def __call__(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        if self.graphed and len(batch) not in self._graphs:
            try:
                self._graphs[len(batch)] = self._capture(batch)
            except RuntimeError as error:  # capture unsupported by some op or driver
                warnings.warn(f"CUDA graph capture failed ({error}); training continues "
                              "with eager steps", RuntimeWarning, stacklevel=2)
                self.graphed = False
                self._graphs.clear()
                torch.cuda.synchronize()
        return self._replay(batch) if self.graphed else self._eager(batch)

    def _eager(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        for parameter in self.parameters:
            parameter.grad = None
        loss, stats = self.compute(batch)
        loss.backward()
        return stats

    def _replay(self, batch: torch.Tensor) -> tuple[torch.Tensor, ...]:
        graph, static_batch, static_stats, static_grads = self._graphs[len(batch)]
        static_batch.copy_(batch)
        graph.replay()
        # The graph writes into the same gradient buffers every replay; put
        # them back in case someone (an optimizer's zero_grad) let them go.
        for parameter, grad in zip(self.parameters, static_grads):
            parameter.grad = grad
        return static_stats

    def _capture(self, batch: torch.Tensor) -> tuple:
        static_batch = batch.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(WARMUP_STEPS):
                self._eager(static_batch)
        torch.cuda.current_stream().wait_stream(side)
        for parameter in self.parameters:
            parameter.grad = None  # so the backward in the graph allocates them in its pool
        graph = torch.cuda.CUDAGraph()
        # Each graph keeps its own memory pool: graphs sharing one could write
        # their scratch over each other's outputs.
        with torch.cuda.graph(graph):
            loss, stats = self.compute(static_batch)
            loss.backward()
        grads = [parameter.grad for parameter in self.parameters]
        return graph, static_batch, stats, grads
