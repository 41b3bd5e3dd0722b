"""
Reprogramming your own torch model
==================================

``acoustic_model`` takes any :class:`torch.nn.Module` that maps ``(batch, samples)``
waveforms to ``(batch, K)`` logits. Optional attributes tell V2S more:
``sample_rate`` (default 16000), ``input_length`` (samples per input, default one
second) and ``class_names`` (default ``class_0``, ...). The module is copied and
frozen (:class:`~v2s_sklearn.acoustic.FrozenAcousticModel`); only the additive
signal ``theta``, of ``input_length`` samples, is trained.

Here the source model is a small log-mel CNN trained for a few seconds to tell
twelve pure tones apart in half a second of noisy audio; GunPoint is then
classified by reprogramming it.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torchaudio
from torch import nn

from v2s_sklearn import V2SClassifier, load_acoustic_model
from v2s_sklearn.datasets import load_dataset
from v2s_sklearn.plotting import plot_history

torch.manual_seed(0)
FREQUENCIES = np.geomspace(200, 4000, 12).round().astype(int)


class ToneNet(nn.Module):
    """Log-mel spectrogram, two 1-D convolutions over time, one logit per tone."""

    sample_rate = 16000
    input_length = 8000  # half a second
    class_names = tuple(f"tone_{f}Hz" for f in FREQUENCIES)

    def __init__(self) -> None:
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=self.sample_rate, n_fft=512, hop_length=160, n_mels=40)
        self.net = nn.Sequential(
            nn.Conv1d(40, 32, 5, padding=2), nn.ReLU(),
            nn.Conv1d(32, 32, 5, padding=2), nn.ReLU(),
            nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(32, len(self.class_names)))

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.net(torch.log(self.mel(waveform) + 1e-6))


# %%
# Train the source model on its own task
# --------------------------------------
# Tones of random phase and loudness in white noise; a few hundred Adam steps.
def tones(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    labels = torch.randint(len(FREQUENCIES), (n,), generator=generator)
    t = torch.arange(ToneNet.input_length) / ToneNet.sample_rate
    phase = 2 * np.pi * torch.rand(n, 1, generator=generator)
    loudness = 0.1 + 0.9 * torch.rand(n, 1, generator=generator)
    frequency = torch.as_tensor(FREQUENCIES, dtype=torch.float32)[labels][:, None]
    wave = loudness * torch.sin(2 * np.pi * frequency * t + phase)
    return wave + 0.3 * torch.randn(n, len(t), generator=generator), labels


source = ToneNet()
optimizer = torch.optim.Adam(source.parameters(), lr=3e-3)
generator = torch.Generator().manual_seed(0)
started = time.perf_counter()
losses = []
for step in range(150):
    waves, labels = tones(32, generator)
    loss = nn.functional.cross_entropy(source(waves), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
waves, labels = tones(256, generator)
with torch.no_grad():
    accuracy = (source(waves).argmax(1) == labels).float().mean().item()
print(f"source model trained in {time.perf_counter() - started:.1f} s: "
      f"accuracy {accuracy:.3f} on fresh tones")

# %%
# How V2S sees it
# ---------------
# :func:`~v2s_sklearn.load_acoustic_model` is what the estimator calls: a frozen
# copy, in eval mode, with no gradients to its weights.
frozen = load_acoustic_model(source)
print(type(frozen).__name__, frozen.sample_rate, frozen.input_length, frozen.n_classes,
      frozen.class_names[:3])

# %%
# Reprogram it for GunPoint
# -------------------------
# ``theta`` has 8,000 values (the model's ``input_length``); ``n_segments="auto"``
# places as many copies of each 150-point series as fit, at most 10.
X_train, y_train = load_dataset("GunPoint", "train")
X_test, y_test = load_dataset("GunPoint", "test")
clf = V2SClassifier(acoustic_model=source, max_epochs=20, input_scaling=None,
                    random_state=0).fit(X_train, y_train)
print(f"theta: {clf.theta_.shape[0]} values, {clf.n_segments_} copies of each series")
print(f"test accuracy {clf.score(X_test, y_test):.3f}")
for cls, names in clf.label_map_.items():
    print(f"class {cls}: {', '.join(names)}")

fig = plot_history(clf)
fig.suptitle("GunPoint through a tone classifier")
plt.show()
