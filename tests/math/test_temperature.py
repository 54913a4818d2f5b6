"""Softmax with temperature (card p2-softmax-temperature)."""

import pytest
import torch


@pytest.mark.card("p2-softmax-temperature")
def test_temperature_interpolates_between_argmax_and_uniform():
    torch.manual_seed(0)
    z = torch.randn(7, dtype=torch.float64)
    manual = lambda T: torch.exp(z / T) / torch.exp(z / T).sum()  # noqa: E731 - the card's formula
    for T in (0.3, 1.0, 5.0):
        assert torch.allclose(manual(T), torch.softmax(z / T, dim=0))
    one_hot = torch.nn.functional.one_hot(z.argmax(), 7).double()
    assert torch.allclose(torch.softmax(z / 1e-3, dim=0), one_hot, atol=1e-12)
    assert torch.allclose(
        torch.softmax(z / 1e6, dim=0), torch.full((7,), 1 / 7, dtype=torch.float64), atol=1e-6
    )
    order = torch.argsort(z)
    for T in (0.1, 1.0, 10.0):
        assert torch.equal(torch.argsort(torch.softmax(z / T, dim=0)), order)
