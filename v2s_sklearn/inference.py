"""Prediction's forward pass: source logits that do not depend on the batch.

scikit-learn expects a series' probabilities to be the same whether it is
scored alone, in a subset or in another order (``check_estimator`` compares
them to ``rtol=1e-7``). float32 kernels round differently with a batch's size,
so every forward pass here sees the same shape: the series are scored in
chunks of :data:`CHUNK` rows, the last one filled up with zeros. Each row's
arithmetic is then the same wherever it sits, and prediction can run in
float32 on the STFT-domain path, like training.
"""

from __future__ import annotations

import torch

from .exceptions import NonFiniteError, non_finite_message

#: Rows of every forward pass at prediction.
CHUNK = 64


def chunked_logits(network: torch.nn.Module, X: torch.Tensor, pooled: bool = False
                   ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Source logits of ``X`` (n_series, n_channels, n_timepoints), ``CHUNK`` rows at a time.

    Parameters
    ----------
    network : ReprogrammedModel
        In eval mode, on ``X``'s device and dtype.
    X : torch.Tensor
    pooled : bool, default=False
        Also return the source model's pooled activations
        (:meth:`ReprogrammedModel.forward`).

    Returns
    -------
    torch.Tensor of shape (n_series, n_source_classes), or a tuple of it
    and the pooled activations of shape (n_series, n_pooled)
    """
    out = []
    with torch.inference_mode():
        for start in range(0, len(X), CHUNK):
            chunk = X[start : start + CHUNK]
            rows = len(chunk)
            if rows < CHUNK:  # same shape as every other chunk: the same kernels
                chunk = torch.cat([chunk, chunk.new_zeros(CHUNK - rows, *chunk.shape[1:])])
            if pooled:
                logits, activations = network(chunk, pooled=True)
                out.append((logits[:rows], activations[:rows]))
            else:
                out.append(network(chunk)[:rows])
    # validation refuses an empty X, so there is a chunk
    if pooled:
        return torch.cat([o[0] for o in out]), torch.cat([o[1] for o in out])
    return torch.cat(out)


def finite_logits(logits: torch.Tensor, X: torch.Tensor, acoustic_model: object
                  ) -> torch.Tensor:
    """``logits`` when every row is finite; else a NonFiniteError naming the rows."""
    bad = ~torch.isfinite(logits).all(dim=1)
    if bad.any():
        rows = torch.nonzero(bad).flatten().tolist()
        raise NonFiniteError(non_finite_message(
            f"the acoustic model's outputs are not finite for {len(rows)} of {len(X)} "
            f"series (rows {rows[:10]}{'...' if len(rows) > 10 else ''})", X, acoustic_model))
    return logits
