"""Deep network interpolation: one generator's weights blended with another's.

    theta_INTERP = (1 - alpha) * theta_PSNR + alpha * theta_GAN      (ESRGAN §3.4, Eq. 4)

Two generators of the same architecture are blended weight by weight. ESRGAN blends a PSNR model
with the GAN fine-tuned from it to move between smooth and textured results without retraining;
Real-ESRGAN's ``inference_realesrgan.py -dn`` (``RealESRGANer.dni``) blends a model with its
weak-denoise ("wdn") twin to set the denoise strength. Both are the same operation on networks,
so it lives here with the networks; the sweep command that evaluates a range of blends is
:mod:`srgan_keras.evaluation.interpolate`, and the runners use :func:`denoise_blend`.

Keras (and TensorFlow) is imported by the functions that build a model, not by this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from srgan_keras.errors import SrganKerasError

if TYPE_CHECKING:
    import keras


class InterpolationError(SrganKerasError, ValueError):
    """The two models cannot be blended (different architectures, bad alpha, unreadable file)."""


def check_alpha(alpha: float) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise InterpolationError(f"alpha must be in [0, 1] (0 = PSNR model, 1 = GAN model); "
                                 f"got {alpha}")


def interpolate_models(psnr: keras.Model, gan: keras.Model, alpha: float) -> keras.Model:
    """A new model with Eq. 4's blend of every float weight (BatchNorm statistics included, as
    ESRGAN's script blends the whole state dict); other weights come from ``psnr``."""
    check_alpha(alpha)
    a_vars, b_vars = psnr.weights, gan.weights
    a_sig = [(v.path, tuple(v.shape)) for v in a_vars]
    b_sig = [(v.path, tuple(v.shape)) for v in b_vars]
    if a_sig != b_sig:
        diff = next(((a, b) for a, b in zip(a_sig, b_sig) if a != b), None) or \
            (f"{len(a_sig)} weights", f"{len(b_sig)} weights")
        raise InterpolationError(f"the two models differ ({diff[0]} vs {diff[1]}); network "
                                 "interpolation needs the same architecture, e.g. a GAN "
                                 "fine-tuned from the PSNR model")
    import keras

    blended = []
    for va, vb in zip(a_vars, b_vars):
        wa, wb = np.asarray(va.numpy()), np.asarray(vb.numpy())
        blended.append((1.0 - alpha) * wa + alpha * wb if np.issubdtype(wa.dtype, np.floating)
                       else wa)
    out = keras.models.clone_model(psnr)
    out.set_weights(blended)
    return out


# Real-ESRGAN names its twins realesr-general-x4v3.pth / realesr-general-wdn-x4v3.pth
# (inference_realesrgan.py replaces the one name by the other); ours are NAME.keras /
# NAME_wdn.keras (our choice: saved_models/realesr_x4.keras and realesr_x4_wdn.keras).
WDN_SUFFIX = "_wdn"
REALESRGAN_WDN = ("realesr-general-", "realesr-general-wdn-")


def wdn_candidates(path: str | Path) -> list[Path]:
    """Where the weak-denoise twin of ``path`` may be, in the order they are tried."""
    path = Path(path)
    out = [path.with_name(path.stem + WDN_SUFFIX + path.suffix)]
    general, wdn = REALESRGAN_WDN
    if general in path.name and wdn not in path.name:
        out.append(path.with_name(path.name.replace(general, wdn, 1)))
    return out


def find_wdn_twin(path: str | Path) -> Path:
    """The weak-denoise twin beside ``path``, or a one-line InterpolationError."""
    candidates = wdn_candidates(path)
    for c in candidates:
        if c.is_file():
            return c
    names = " or ".join(c.name for c in candidates)
    raise InterpolationError(f"--denoise-strength needs the weak-denoise twin of {path}, but "
                             f"no {names} is beside it; pass --wdn-model PATH, or leave "
                             "--denoise-strength out to use the model as trained")


def check_denoise_strength(strength: float) -> None:
    if not 0.0 <= strength <= 1.0:
        raise InterpolationError(f"--denoise-strength must be in [0, 1] (0 = the weak-denoise "
                                 f"twin, 1 = the model as trained); got {strength}")


def denoise_blend(model: keras.Model, wdn: keras.Model, strength: float) -> keras.Model:
    """Real-ESRGAN's denoise strength: ``s W_model + (1 - s) W_wdn`` for every weight
    (``RealESRGANer.dni`` with ``dni_weight = [s, 1 - s]``); Eq. 4 with alpha = s."""
    check_denoise_strength(strength)
    return interpolate_models(wdn, model, strength)
