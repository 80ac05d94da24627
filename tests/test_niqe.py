"""NIQE (Mittal et al. 2013) against BasicSR's port of the authors' MATLAB release.

The reference values were computed once, on 2026-12-01, with BasicSR 1.4.2's
``basicsr/metrics/niqe.py`` (``pip download --no-deps basicsr==1.4.2``; the file imported with
its own ``metric_util``, ``color_util`` and ``matlab_functions``, torch 2.13 CPU, scipy 1.17):
``calculate_niqe(rgb[..., ::-1], border, input_order="HWC", convert_to="y")``. BasicSR's note
gives MATLAB R2021a's 5.7296 for baboon, border 0 -- the first row.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from srgan_keras.data.imaging import load_rgb_uint8
from srgan_keras.evaluation import niqe as nq

BASICSR_REFERENCE = [  # (image under ../shared/data, border, BasicSR 1.4.2's NIQE)
    ("Set14/baboon.png", 0, 5.729572592446565),
    ("Set14/baboon.png", 4, 5.989246129185144),
    ("Set5/butterfly.png", 4, 5.205050320964172),
    ("Set14/bridge.png", 4, 2.5211852452119),  # a gray file
    ("Set14/comic.png", 0, 4.1388358658943085),
]
# the pristine model as BasicSR 1.4.2 ships it (basicsr/metrics/niqe_pris_params.npz)
PARAMS_SHA256 = "2a7c182a68c9e7f1b2e2e5ec723279d6f65d912b6fcaf37eb2bf03d7367c4296"


def synthetic() -> np.ndarray:
    """A 300x200 textured, noisy RGB image (numpy's PCG64 stream is stable across versions)."""
    rng = np.random.default_rng(12)
    yy, xx = np.mgrid[0:200, 0:300]
    base = 128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0) + rng.normal(0, 12, (200, 300))
    rgb = np.stack([base, 0.8 * base + 30, 255 - base], -1)
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def test_shipped_parameters_are_the_published_ones():
    assert hashlib.sha256(nq.NIQE_PARAMS.read_bytes()).hexdigest() == PARAMS_SHA256
    mu, cov, window = nq.pristine_model()
    assert mu.shape == (36,) and cov.shape == (36, 36) and window.shape == (7, 7)
    assert window.sum() == pytest.approx(1.0) and np.allclose(cov, cov.T)
    notice = nq.NIQE_NOTICE.read_text()  # the release's terms travel with the values
    assert "Copyright (c) 2011 The University of Texas at Austin" in notice and PARAMS_SHA256 in notice


@pytest.mark.parametrize("image, border, reference", BASICSR_REFERENCE)
def test_niqe_matches_basicsr(shared_data, image, border, reference):
    assert nq.niqe(load_rgb_uint8(shared_data / image), border=border) == pytest.approx(
        reference, abs=0.01)


def test_niqe_of_a_synthetic_image_matches_basicsr():
    img = synthetic()
    assert hashlib.sha256(img.tobytes()).hexdigest().startswith("e0262dc452b7")
    assert nq.niqe(img, border=0) == pytest.approx(16.546906045295987, abs=0.01)
    assert nq.niqe(img, border=4) == pytest.approx(15.828401218006546, abs=0.01)


def test_imresize_matches_matlab_conventions():
    flat = np.full((20, 30), 77.0)
    assert np.allclose(nq.imresize_matlab(flat, 0.5), 77.0)  # weights sum to 1, mirrored edges
    # MATLAB maps output pixel k (0-based) to input position 2k + 0.5 at scale 1/2, and the cubic
    # reproduces a ramp exactly away from the edges: 0, 1, 2, ... -> 0.5, 2.5, 4.5, ...
    half = nq.imresize_matlab(np.tile(np.arange(40.0), (6, 1)), 0.5)
    assert half.shape == (3, 20)
    assert np.allclose(half[1, 2:-2], 2 * np.arange(2, 18) + 0.5)


def test_blur_makes_niqe_worse(shared_data):
    """NIQE rewards sharp natural statistics: a blurred copy scores worse (higher)."""
    img = load_rgb_uint8(shared_data / "Set14" / "baboon.png").astype(np.float64)
    soft = gaussian_filter(img, sigma=(2.0, 2.0, 0))
    assert nq.niqe(soft) > nq.niqe(img) + 1.0


def test_too_small_for_two_blocks_says_so():
    with pytest.raises(ValueError, match="at least 2 blocks of 96x96"):
        nq.niqe(synthetic()[:100, :150])
