"""The Bhattacharyya similarity of Eq. 1: the closed form in numpy (runtime) and torch (loss)
against the kernel's definition integrated numerically, and its stated properties."""

from __future__ import annotations

import numpy as np
import pytest

from edge3d.native import bhattacharyya


def integrated(mu_a, sigma_a, mu_b, sigma_b) -> float:
    """K(p, q) = integral of sqrt(p q) (section 3.2's definition); diagonal Gaussians factor
    into one integral per axis."""
    total = 1.0
    for ma, sa, mb, sb in zip(mu_a, sigma_a, mu_b, sigma_b, strict=True):
        lo = min(ma - 12 * sa, mb - 12 * sb)
        hi = max(ma + 12 * sa, mb + 12 * sb)
        x = np.linspace(lo, hi, 200_001)
        p = np.exp(-0.5 * ((x - ma) / sa) ** 2) / (sa * np.sqrt(2 * np.pi))
        q = np.exp(-0.5 * ((x - mb) / sb) ** 2) / (sb * np.sqrt(2 * np.pi))
        total *= np.trapezoid(np.sqrt(p * q), x)
    return float(total)


CASES = [
    ((0, 0, 0), (1, 1, 1), (0, 0, 0), (1, 1, 1)),
    ((0, 0, 0), (0.1, 0.2, 0.3), (0.05, -0.1, 0.2), (0.1, 0.2, 0.3)),
    ((0.3, 0, 1), (0.05, 0.5, 0.2), (0.1, 0.4, 0.9), (0.2, 0.1, 0.25)),
    ((0, 0, 0), (0.01, 0.01, 0.01), (0, 0, 0), (1.0, 1.0, 1.0)),
]


@pytest.mark.parametrize("case", CASES)
def test_closed_form_is_the_kernel(case):
    a, sa, b, sb = (np.array(v, float) for v in case)
    assert bhattacharyya(a, sa, b, sb) == pytest.approx(integrated(a, sa, b, sb), rel=1e-6,
                                                        abs=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_loss_log_similarity_agrees(case):
    torch = pytest.importorskip("torch")
    from training.losses.prob_embeddings import log_similarity

    a, sa, b, sb = (torch.tensor(v, dtype=torch.float64) for v in case)
    got = float(log_similarity(a, sa, b, sb).exp())
    assert got == pytest.approx(bhattacharyya(*(np.array(v, float) for v in case)), rel=1e-9)


def test_properties_stated_in_section_3_2():
    rng = np.random.default_rng(0)
    mu_a, mu_b = rng.normal(size=(2, 500, 3))
    s_a, s_b = np.exp(rng.normal(size=(2, 500, 3)))
    k_ab = bhattacharyya(mu_a, s_a, mu_b, s_b)
    assert np.allclose(k_ab, bhattacharyya(mu_b, s_b, mu_a, s_a))      # symmetric
    assert np.all((k_ab > 0) & (k_ab <= 1))                               # in (0, 1]
    assert np.allclose(bhattacharyya(mu_a, s_a, mu_a, s_a), 1.0)          # 1 for p = q
    # Equal centres: the similarity is the uncertainty term beta alone (Figure 3), small when
    # one Gaussian is much wider than the other.
    assert bhattacharyya(mu_a[0], np.full(3, 0.01), mu_a[0], np.full(3, 1.0)) == \
        pytest.approx(((100 + 0.01) / 2) ** -1.5)
