"""PyTorch twins of forensiclib's two networks, for `bench_training.py` only (PyTorch is an optional benchmark
dependency: `pip install ".[bench]"`; nothing in the suite needs it).

Same layer shapes as `forensiclib.mislnet` (paper 2's MISLnet: constr 3x5x5 without bias, conv1 96x7x7 stride 2 pad 3,
conv2 and conv3 64x5x5 pad 2, conv4 128x1x1, each with batch norm, tanh and a pooling that rounds up as Caffe does;
fc1 and fc2 200 tanh) and `forensiclib.dct_cnn` (paper 1's 1-D CNN: two Conv1D(100, 3) + ReLU + max-pool 2, Dense 256
twice, dropout 0.5), the same optimisers (SGD with momentum 0.9; AdaDelta), channels first as PyTorch prefers.
The constrained layer's projection after each step is left out here and in the count of work alike: it is a few
dozen values.
"""

from __future__ import annotations

import torch
from torch import nn


def mislnet_torch(n_classes: int, input_size: int) -> nn.Module:
    """MISLnet for `(batch, 1, input_size, input_size)` float32 input."""

    def block(c_in, c_out, kernel, stride, pad, pool):
        return [nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=pad), nn.BatchNorm2d(c_out, eps=1e-5),
                nn.Tanh(), pool(3, 2, ceil_mode=True)]  # fmt: skip

    features = nn.Sequential(
        nn.Conv2d(1, 3, 5, bias=False),
        *block(3, 96, 7, 2, 3, nn.MaxPool2d),
        *block(96, 64, 5, 1, 2, nn.MaxPool2d),
        *block(64, 64, 5, 1, 2, nn.MaxPool2d),
        *block(64, 128, 1, 1, 0, nn.AvgPool2d),
        nn.Flatten(),
    )
    with torch.no_grad():
        fan_in = features(torch.zeros(1, 1, input_size, input_size)).shape[1]
    return nn.Sequential(features, nn.Linear(fan_in, 200), nn.Tanh(), nn.Linear(200, 200), nn.Tanh(),
                         nn.Linear(200, n_classes))  # fmt: skip


def dct_cnn_torch(n_classes: int, n_features: int = 909) -> nn.Module:
    """The 1-D CNN for `(batch, n_features)` float32 histograms."""
    with torch.no_grad():
        conv = nn.Sequential(nn.Unflatten(1, (1, n_features)), nn.Conv1d(1, 100, 3), nn.ReLU(), nn.MaxPool1d(2),
                             nn.Conv1d(100, 100, 3), nn.ReLU(), nn.MaxPool1d(2), nn.Flatten())  # fmt: skip
        fan_in = conv(torch.zeros(1, n_features)).shape[1]
    return nn.Sequential(conv, nn.Linear(fan_in, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Dropout(0.5),
                         nn.Linear(256, n_classes))  # fmt: skip


def optimizer_for(name: str, model: nn.Module) -> torch.optim.Optimizer:
    """The optimiser forensiclib compiles the network with."""
    if name == "dct":
        return torch.optim.Adadelta(model.parameters(), lr=1.0, rho=0.95, eps=1e-6)
    return torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)


def parameter_count(model: nn.Module) -> int:
    """Trainable parameters (to check the twin's shapes against the Keras network's)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor,
                batch_size: int) -> None:  # fmt: skip
    """One epoch over `x` in order, batches of `batch_size`, cross-entropy."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    for start in range(0, len(x), batch_size):
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[start:start + batch_size]), y[start:start + batch_size])
        loss.backward()
        optimizer.step()
