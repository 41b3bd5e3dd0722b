"""Faster equivalents of frozen layers, valid because the weights never change."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _affine_of(norm: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode batch norm as ``scale * x + shift`` per channel."""
    scale = norm.weight / torch.sqrt(norm.running_var + norm.eps)
    return scale, norm.bias - norm.running_mean * scale


class FoldedTimeConv(nn.Module):
    """The V2Sa convolution block as matrix products over time-shifted copies.

    ``Conv2d(1->C, (k, 1)) ReLU BN Conv2d(C->1, (k, 1)) ReLU BN`` with
    kernels one mel band wide is a 1-D convolution along time applied to every
    mel band alike. With one input and one output channel it is cheapest as
    two small matrix products: the first convolution multiplies the ``k``
    shifted copies of the input by its ``(C, k)`` weights, the second
    multiplies the ``C`` channels by its ``(k, C)`` weights and sums the ``k``
    results shifted back. That avoids the general 2-D kernels and the
    transposes a folded ``conv1d`` needs, forward and backward (about 2x
    faster than that ``conv1d`` form for the block alone on this project's
    2-core CPU, batch 32). Batch norms become frozen
    affine maps. Same input and output shape as the block:
    ``(batch, 1, frames, n_mels)``.
    """

    def __init__(self, block: nn.Sequential) -> None:
        super().__init__()
        first, _, norm1, second, _, norm2 = block
        self.padding = first.padding[0]
        with torch.no_grad():
            scale1, shift1 = _affine_of(norm1)
            scale2, shift2 = _affine_of(norm2)
            tensors = {
                "weight1": first.weight[:, 0, :, 0].clone(),       # (C, k)
                "bias1": first.bias[None, :, None].clone(),
                "scale1": scale1[None, :, None].clone(),
                "shift1": shift1[None, :, None].clone(),
                "weight2": second.weight[0, :, :, 0].T.clone(),    # (k, C)
                "bias2": second.bias.clone(),
                "scale2": scale2.clone(),
                "shift2": shift2.clone(),
            }
        for name, tensor in tensors.items():
            self.register_buffer(name, tensor, persistent=False)

    @staticmethod
    def fits(block: nn.Module) -> bool:
        """Whether ``block`` has the V2Sa layout this class folds."""
        kinds = (nn.Conv2d, nn.ReLU, nn.BatchNorm2d, nn.Conv2d, nn.ReLU, nn.BatchNorm2d)
        return (isinstance(block, nn.Sequential) and len(block) == 6
                and all(isinstance(m, k) for m, k in zip(block, kinds))
                and block[0].in_channels == 1 and block[3].out_channels == 1
                and block[0].kernel_size[1] == 1 and block[3].kernel_size[1] == 1
                and block[0].stride == (1, 1) and block[3].stride == (1, 1)
                and block[0].padding == block[3].padding
                and 2 * block[0].padding[0] == block[0].kernel_size[0] - 1
                and block[0].padding[1] == 0
                and block[0].kernel_size == block[3].kernel_size
                and all(c.dilation == (1, 1) and c.groups == 1 and c.bias is not None
                        and c.padding_mode == "zeros" for c in (block[0], block[3])))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, frames, bands = x.shape
        taps, pad = self.weight1.shape[1], self.padding  # both kernels have ``taps`` rows
        z = F.pad(x.reshape(batch, frames, bands), (0, 0, pad, pad))
        shifted = torch.stack([z[:, i : i + frames] for i in range(taps)], dim=1)
        h = torch.matmul(self.weight1, shifted.reshape(batch, taps, frames * bands))
        h = F.relu(h + self.bias1) * self.scale1 + self.shift1  # (batch, C, frames*bands)
        g = torch.matmul(self.weight2, h).reshape(batch, taps, frames, bands)
        g = F.pad(g, (0, 0, pad, pad))
        out = g[:, 0, :frames]
        for i in range(1, taps):
            out = out + g[:, i, i : i + frames]
        out = F.relu(out + self.bias2) * self.scale2 + self.shift2
        return out[:, None]
