"""The export-time rewrite of 3D transposed convolutions computes the same function."""

from __future__ import annotations

import pytest
import torch

from edge3d.models.backbones import DenseCNN, DenseCNNConfig
from edge3d.models.backbones.layers import ParityConvTranspose3d, export_form


@pytest.mark.parametrize("shape", [(1, 4, 2, 2, 2), (2, 4, 3, 5, 4)])
def test_parity_conv_transpose_equals_conv_transpose(shape) -> None:
    torch.manual_seed(0)
    layer = torch.nn.ConvTranspose3d(4, 3, 4, stride=2, padding=1).double()
    x = torch.randn(*shape, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(ParityConvTranspose3d(layer)(x), layer(x))


def test_export_form_rewrites_only_what_it_can() -> None:
    model = DenseCNN(DenseCNNConfig(width=1, stem_kernel=3)).eval()
    x = {"grid": torch.randn(1, 4, 6, 4, 8)}
    with torch.no_grad():
        ref = model(x)
        rewritten = export_form(model)
        assert not any(isinstance(m, torch.nn.ConvTranspose3d) for m in rewritten.modules())
        torch.testing.assert_close(rewritten(x), ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="kernel 4, stride 2, padding 1"):
        ParityConvTranspose3d(torch.nn.ConvTranspose3d(2, 2, 2, stride=2))
