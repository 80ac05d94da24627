"""The settings of Real-ESRGAN's degradations (Wang et al. 2021, §3): one frozen config, its presets.

The numbers are the official defaults (``options/train_realesrgan_x4plus.yml`` and
``RealESRGANDataset``); the field names follow that YAML. The ops that apply them live in
:mod:`srgan_keras.data.realesrgan_degradation`; this module is plain Python, so a CLI can offer
the presets (``evaluate --degrade``, ``train --degradation``) without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso",
                "plateau_aniso")
RESIZE_MODES = ("area", "bilinear", "bicubic")  # official: random.choice, equal odds
MAX_KERNEL = 21  # every blur kernel is zero-padded to 21x21 (official ``blur_kernel_size``)
MIN_SIZE = MAX_KERNEL // 2 + 1  # reflection padding by 10 needs at least 11 px


@dataclass(frozen=True)
class DegradationConfig:
    """The official Real-ESRGAN x4plus degradation settings; field names follow its YAML."""

    # blur kernels of the first order (RealESRGANDataset)
    kernel_sizes: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21)  # drawn uniformly
    kernel_prob: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)  # over KERNEL_TYPES
    sinc_prob: float = 0.1  # a sinc (ringing) kernel instead of a blur
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)  # generalized Gaussian shape
    betap_range: tuple[float, float] = (1.0, 2.0)  # plateau shape
    # first order: resize, noise, JPEG
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)  # up, down, keep
    resize_range: tuple[float, float] = (0.15, 1.5)
    gaussian_noise_prob: float = 0.5  # else Poisson
    noise_range: tuple[float, float] = (1.0, 30.0)  # Gaussian sigma, in 0..255 units
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4  # the same noise on all three channels
    jpeg_range: tuple[float, float] = (30.0, 95.0)
    # second order
    second_blur_prob: float = 0.8
    kernel_prob2: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sinc_prob2: float = 0.1
    blur_sigma2: tuple[float, float] = (0.2, 1.5)
    betag_range2: tuple[float, float] = (0.5, 4.0)
    betap_range2: tuple[float, float] = (1.0, 2.0)
    resize_prob2: tuple[float, float, float] = (0.3, 0.4, 0.3)
    resize_range2: tuple[float, float] = (0.3, 1.2)
    gaussian_noise_prob2: float = 0.5
    noise_range2: tuple[float, float] = (1.0, 25.0)
    poisson_scale_range2: tuple[float, float] = (0.05, 2.5)
    gray_noise_prob2: float = 0.4
    jpeg_range2: tuple[float, float] = (30.0, 95.0)
    final_sinc_prob: float = 0.8
    # unsharp masking of the ground truth (BasicSR USMSharp defaults)
    usm_weight: float = 0.5
    usm_radius: int = 50  # made odd: 51x51 Gaussian, sigma 8 (OpenCV's rule for sigma=0)
    usm_threshold: float = 10.0  # in 0..255 units


DEFAULT = DegradationConfig()

# "light" is our choice: everyday photos as issue 12 describes them (evaluate --degrade light;
# train --degradation light fine-tunes the weak-denoise twin on it) -- a little blur, x4
# downscaling, noise up to 10 grey levels, JPEG quality 35-85 -- in the same pipeline:
# first order = a mild Gaussian blur only (no resize, no noise; its JPEG at quality 95, as the
# pipeline always compresses once at HR size); second order = no blur, straight to H/s by a
# random area/bilinear/bicubic resize, Gaussian noise sigma 0-10 (gray with the official
# odds 0.4), no sinc ringing, JPEG 35-85.
LIGHT = DegradationConfig(
    kernel_prob=(0.5, 0.5, 0.0, 0.0, 0.0, 0.0),  # isotropic / anisotropic Gaussian only
    sinc_prob=0.0, blur_sigma=(0.2, 1.5),
    resize_prob=(0.0, 0.0, 1.0),
    gaussian_noise_prob=1.0, noise_range=(0.0, 0.0),
    jpeg_range=(95.0, 95.0),
    second_blur_prob=0.0, sinc_prob2=0.0,
    resize_prob2=(0.0, 0.0, 1.0),
    gaussian_noise_prob2=1.0, noise_range2=(0.0, 10.0),
    final_sinc_prob=0.0,
    jpeg_range2=(35.0, 85.0),
)
PRESETS: dict[str, DegradationConfig] = {
    "realesrgan": DEFAULT,  # the official x4plus settings
    "light": LIGHT,
}
