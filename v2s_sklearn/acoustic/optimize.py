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
    """The V2Sa convolution block as two 1-D convolutions along time.

    ``Conv2d(1->C, (k, 1)) ReLU BN Conv2d(C->1, (k, 1)) ReLU BN`` with
    kernels one mel band wide is a 1-D convolution along time applied to every
    mel band alike; computing it that way (bands folded into the batch, batch
    norms as frozen affine maps) avoids the slow general 2-D kernels, forward
    and backward. Same input and output shape as the block:
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
                "weight1": first.weight[:, :, :, 0].clone(),   # (C, 1, k)
                "bias1": first.bias.clone(),
                "scale1": scale1[None, :, None].clone(),
                "shift1": shift1[None, :, None].clone(),
                "weight2": second.weight[:, :, :, 0].clone(),  # (1, C, k)
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
                and block[0].padding[1] == 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, frames, bands = x.shape
        z = x.reshape(batch, frames, bands).transpose(1, 2).reshape(batch * bands, 1, frames)
        h = F.relu(F.conv1d(z, self.weight1, self.bias1, padding=self.padding))
        h = h * self.scale1 + self.shift1
        out = F.relu(F.conv1d(h, self.weight2, self.bias2, padding=self.padding))
        out = out * self.scale2 + self.shift2
        return out.reshape(batch, bands, frames).transpose(1, 2).reshape(batch, 1, frames, bands)
