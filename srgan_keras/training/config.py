"""One frozen config for a training run: the paper's values are the defaults; presets are plain Python.

Sources of the defaults (SRGAN = Ledig et al. 2017, §3.2 "Training details and parameters"):
96x96 HR crops, batch 16, scale 4, Adam beta1 0.9, SRResNet trained 1e6 steps at lr 1e-4, the
GAN 1e5 steps at 1e-4 then 1e5 at 1e-5, content loss VGG54, adversarial weight 1e-3, B=16.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, fields, replace

from srgan_keras.training.presets import PRESETS

# Scales each generator can build, and why (the builders' own limits).
GENERATOR_SCALES = {"srresnet": (2, 4, 8), "rrdbnet": (1, 2, 4), "srvgg": (2, 3, 4)}
GENERATOR_SCALE_REASONS = {
    "srresnet": "x2 sub-pixel blocks, Fig. 4",
    "rrdbnet": "its body always upsamples x4, after a pixel-unshuffle for x1 and x2",
    "srvgg": "one pixel shuffle by the scale",
}


# Our bound, not the paper's: one HR batch as float32 (B x H x W x 3 x 4 bytes). A step holds tens of
# feature maps of that size per layer, so above 1 GiB no machine trains it (batch 100000 at 96 px,
# 10.3 GiB, ended in a segfault after 77 s); the paper's batch, 16 at 96 px, is 1.7 MB.
MAX_BATCH_BYTES = 2**30


def batch_bytes(batch_size: int, hr_size: int) -> int:
    """Bytes of one float32 HR batch (B, hr_size, hr_size, 3)."""
    return batch_size * hr_size * hr_size * 3 * 4


@dataclass(frozen=True)
class TrainConfig:
    # --- data (SRGAN §3.1-3.2) ---
    data: str = "builtin"  # builtin | a folder | tfds:NAME (paper: 350k ImageNet images)
    lr_data: str | None = None  # folder of LR images paired by name with --data (else bicubic)
    val_data: str = "builtin"  # builtin = photos held out of the built-in set, or a folder
    scale: int = 4  # paper: x4
    hr_size: int = 96  # paper: 96x96 HR sub-images
    batch_size: int = 16  # paper: 16 per mini-batch
    color_jitter: bool = False  # our option: brightness/saturation jitter of HR crops
    degradation: str = "bicubic"  # bicubic (paper) | realesrgan (second-order, Real-ESRGAN §3) | light (ours)
    usm_gt: bool = False  # Real-ESRGAN: unsharp-masked ground truth for pixel/content losses
    cache_gib: float = 2.0  # decode the dataset once into memory when it fits; else stream
    # --- generator (Fig. 4) ---
    generator: str = "srresnet"  # srresnet (paper) | rrdbnet (ESRGAN) | srvgg (Real-ESRGAN compact)
    num_blocks: int = 16  # paper: B = 16 residual blocks
    num_conv: int = 32  # srvgg only: body convolutions (realesr-general-x4v3: 32)
    num_filters: int = 64  # paper: 64 feature maps
    upsampler: str = "pixel_shuffle"  # paper: sub-pixel convolution
    global_residual: bool = False  # our option: output = bicubic(LR) + network (demo uses it)
    # ICNR (Aitken, Ledig et al. 2017): sub-pixel convolutions start with equal phases, so no
    # checkerboard at initialisation (nn/icnr.py). --no-icnr for the ablation (the 2017 paper's
    # Glorot draws). A run from --init-from keeps the loaded weights: see --icnr-project.
    icnr: bool = True
    icnr_project: bool = False  # our option: with --init-from, average each sub-pixel kernel's phases
    # --- discriminator (Fig. 4) ---
    discriminator: str = "srgan"  # srgan (paper) | vgg (ESRGAN, BasicSR VGGStyle) | unet (Real-ESRGAN)
    disc_filters: int = 64  # paper: 64 in the first layer
    # --- losses (Eqs. 3-7) ---
    pretrain_loss: str = "mse"  # paper: SRResNet is trained with MSE; l1 as ESRGAN
    content_loss: str = "vgg54"  # mse | l1 | vgg22 | vgg54 (paper's SRGAN) | vgg54_preact | multi_preact
    # imagenet (Keras' Caffe VGG19, SRGAN) | torchvision (torchvision's .pth, ESRGAN) | a .h5 / .pth
    # path | random[:SEED] (no download: seeded random VGG19, Liu et al. 2021; our departure)
    vgg_weights: str = "imagenet"
    content_weight: float = 1.0
    adv_loss: str = "vanilla"  # vanilla -log D(G(x)) (paper Eq. 6) | ragan (ESRGAN Eq. 2)
    adv_weight: float = 1e-3  # paper Eq. 3: 10^-3 * l_Gen
    pixel_loss: str = "l1"  # extra pixel term in the GAN phase (ESRGAN); weight 0 = off (paper)
    pixel_weight: float = 0.0
    # our regularisers of the GAN phase (losses.py), 0 = off as in the paper: MSE of the scale x
    # scale cell means (colour and low frequencies kept, texture free), and the repeated
    # pixel-shuffle tile of SR against HR's (the checkerboard)
    lowfreq_weight: float = 0.0
    tile_weight: float = 0.0
    # --- schedule (§3.2) ---
    phase: str = "both"  # pretrain | gan | both
    pretrain_steps: int = 1_000_000  # paper: 10^6 update iterations for SRResNet
    gan_steps: int = 200_000  # paper: 10^5 at 1e-4, then 10^5 at 1e-5
    pretrain_lr: float = 1e-4  # paper
    gan_lr: float = 1e-4  # paper
    # The discriminator's learning rate in the GAN phase, on gan_lr's schedule; None = gan_lr, the
    # paper's one rate for both. Our option: a faster D is the two time-scale update rule (Heusel et
    # al. 2017), and notebook 05 uses it to show a discriminator that wins.
    disc_lr: float | None = None
    lr_schedule: str = "multistep"  # constant | multistep | cosine
    pretrain_milestones: tuple[int, ...] = ()  # steps (within the phase) where lr *= lr_gamma
    gan_milestones: tuple[int, ...] = (100_000,)  # paper: 1e-4 -> 1e-5 after 10^5 GAN steps
    lr_gamma: float = 0.1
    min_lr_ratio: float = 0.0  # cosine: final lr / base lr
    warmup_steps: int = 0  # our option: linear warm-up at the start of each phase
    beta1: float = 0.9  # paper: Adam beta1 = 0.9
    beta2: float = 0.999  # Keras/Adam default (the paper is silent)
    ema_decay: float = 0.0  # ESRGAN/Real-ESRGAN: EMA of generator weights (0 = off)
    init_from: str | None = None  # a generator .keras to start from (the GAN phase, a fine-tune)
    # --- runtime ---
    seed: int = 0
    # XLA measured *slower* on this 2-core CPU (oneDNN graph mode wins): SRResNet step at batch 16,
    # HR 96: 0.71 s graph vs 1.12 s XLA; SRGAN D+G step 1.75 s vs 2.62 s (benchmarks/train_step.py).
    # On GPUs XLA usually wins: --jit-compile.
    jit_compile: bool = False
    strategy: str = "default"  # default | mirrored | multiworker
    logical_cpus: int = 0  # split the CPU into N logical devices (to exercise mirrored here)
    mixed_precision: str = "none"  # none | bfloat16 | float16
    log_every: int = 10
    val_every: int = 1000
    ckpt_every: int = 1000
    val_images: int = 0  # cap on validation images (0 = all)
    out: str | None = None  # run folder; default saved_models/<preset>

    def phase_steps(self) -> tuple[int, int]:
        """(pretrain steps, GAN steps) this run will take, after --phase."""
        pre = self.pretrain_steps if self.phase in ("pretrain", "both") else 0
        gan = self.gan_steps if self.phase in ("gan", "both") else 0
        return pre, gan

    def validate(self) -> None:
        """Fail at start, with a sentence that says what to do, on a setting that cannot work."""
        choices = {
            "generator": ("srresnet", "rrdbnet", "srvgg"),
            "discriminator": ("srgan", "unet", "vgg"),
            "upsampler": ("pixel_shuffle", "nearest_conv", "transpose"),
            "pretrain_loss": ("mse", "l1"),
            "content_loss": ("mse", "l1", "vgg22", "vgg54", "vgg54_preact", "multi_preact"),
            "adv_loss": ("vanilla", "ragan"),
            "pixel_loss": ("l1", "mse"),
            "phase": ("pretrain", "gan", "both"),
            "lr_schedule": ("constant", "multistep", "cosine"),
            "strategy": ("default", "mirrored", "multiworker"),
            "mixed_precision": ("none", "bfloat16", "float16"),
            "degradation": ("bicubic", "realesrgan", "light"),
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"--{name.replace('_', '-')} must be one of {', '.join(allowed)}; "
                                 f"got {getattr(self, name)!r}")
        scales = GENERATOR_SCALES[self.generator]
        if self.scale not in scales:
            raise ValueError(f"--generator {self.generator} cannot upscale x{self.scale}; its "
                             f"scales are {', '.join(map(str, scales))} "
                             f"({GENERATOR_SCALE_REASONS[self.generator]})")
        if self.lr_data is not None and self.degradation != "bicubic":
            raise ValueError(f"--lr-data cannot be used with --degradation {self.degradation}: that "
                             "degradation makes the LR from each HR crop; drop one of the two")
        if self.lr_data is not None and self.data.startswith("tfds:"):
            raise ValueError(f"--lr-data cannot be paired with --data {self.data}: LR files are "
                             "matched by name to HR files of a folder; use a folder for --data")
        if self.lr_data is not None and self.color_jitter:
            raise ValueError("--color-jitter cannot be used with --lr-data: it would change the "
                             "HR crops and not their LR files, so the pairs would no longer match")
        if self.discriminator == "vgg" and (self.hr_size < 8 or self.hr_size & (self.hr_size - 1)):
            raise ValueError(f"--discriminator vgg needs --hr-size a power of two (128 as ESRGAN, "
                             f"256): its stride-2 blocks end at 4x4; got {self.hr_size}")
        d_stride = {"srgan": 16, "unet": 8, "vgg": 4}[self.discriminator]  # product of D's strides
        if self.hr_size < d_stride or self.hr_size % d_stride or self.hr_size % self.scale:
            raise ValueError(f"--hr-size {self.hr_size} must be a positive multiple of {d_stride} "
                             f"(the discriminator's strides) and of --scale {self.scale}, e.g. 96")
        if self.batch_size < 1 or self.pretrain_steps < 0 or self.gan_steps < 0:
            raise ValueError("--batch-size must be >= 1 and step counts >= 0")
        for name in ("log_every", "val_every", "ckpt_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be >= 1 (steps between two); got "
                                 f"{getattr(self, name)}: for once at the end, pass the step count")
        for name in ("pretrain_lr", "gan_lr") + (("disc_lr",) if self.disc_lr is not None else ()):
            if not (math.isfinite(getattr(self, name)) and getattr(self, name) > 0):
                raise ValueError(f"--{name.replace('_', '-')} must be a positive number (the paper: "
                                 f"1e-4); got {getattr(self, name)}")
        batch = batch_bytes(self.batch_size, self.hr_size)
        if batch > MAX_BATCH_BYTES:
            raise ValueError(f"--batch-size {self.batch_size} at --hr-size {self.hr_size} makes "
                             f"{batch / 2**30:.1f} GiB HR batches (float32), above the "
                             f"{MAX_BATCH_BYTES // 2**30} GiB that any machine can train on; "
                             "lower --batch-size (the paper: 16)")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)


def get_config(preset: str = "demo", **overrides) -> TrainConfig:
    """The preset's config with ``overrides`` applied and validated."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    cfg = replace(TrainConfig(), **PRESETS[preset])
    cfg = replace(cfg, **overrides)
    cfg.validate()
    return cfg


def register_preset(name: str, overrides: dict) -> None:
    """Add a preset of your own to :data:`~srgan_keras.training.presets.PRESETS` (for ``--preset``)."""
    names = {f.name for f in fields(TrainConfig)}
    unknown = set(overrides) - names
    if unknown:
        raise ValueError(f"unknown config fields in preset {name!r}: {sorted(unknown)}")
    PRESETS[name] = dict(overrides)


# ----------------------------------------------------------------------------------------------
# CLI flags generated from the dataclass, so the two can never drift apart.
# ----------------------------------------------------------------------------------------------
def _parse_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def _base_type(tp):
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0]
    return tp


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One ``--flag`` per TrainConfig field (default None = keep the preset's value)."""
    hints = typing.get_type_hints(TrainConfig)
    group = parser.add_argument_group("config (defaults: the preset's values)")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        tp = _base_type(hints[f.name])
        if tp is bool:
            group.add_argument(flag, action=argparse.BooleanOptionalAction, default=None)
        elif typing.get_origin(tp) is tuple:
            group.add_argument(flag, type=_parse_tuple, default=None, metavar="N,N,...")
        else:
            group.add_argument(flag, type=tp, default=None)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    overrides = {f.name: getattr(args, f.name) for f in fields(TrainConfig)
                 if getattr(args, f.name, None) is not None}
    return get_config(args.preset, **overrides)


__all__ = ["TrainConfig", "PRESETS", "get_config", "register_preset", "add_config_flags",
           "config_from_args"]
