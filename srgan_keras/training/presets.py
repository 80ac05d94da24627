"""Presets: named overrides of :class:`~srgan_keras.training.config.TrainConfig`, as plain dicts.

``--preset NAME`` (and :func:`~srgan_keras.training.config.get_config`) starts from the paper's
defaults and applies ``PRESETS[NAME]``; nothing is registered at import time, so this file is the
whole list. ``paper``, ``demo`` and ``tiny`` are SRGAN's (Ledig et al. 2017, §3.2); ``esrgan``
and ``realesrgan`` are the ESRGAN and Real-ESRGAN recipes. Both train RRDBNet
(:mod:`srgan_keras.nn.rrdbnet`) in two phases, as the papers do: a PSNR-oriented pre-training with
L1, then the GAN. Their values are the papers' (ESRGAN §4.1) or, where the paper is silent, the
official BasicSR / Real-ESRGAN option files. Both need a GPU and torchvision's VGG19 weights
(``--vgg-weights torchvision`` downloads ``vgg19-dcbb9e9d.pth``, or pass its path) for the
paper-size runs; tiny runs override sizes:

    python -m srgan_keras.train --preset realesrgan --num-blocks 1 --num-filters 8 \\
        --disc-filters 8 --hr-size 64 --batch-size 2 --pretrain-steps 2 --gan-steps 2 \\
        --content-loss l1 --val-images 1

Balanced as BasicSR / Real-ESRGAN's code balances them: the L1 pixel terms are computed on the
unit-range generators' [0, 1] output (srgan.py), the perceptual losses on torchvision's VGG19
(RGB [0, 1], ImageNet mean/std; losses.py), the GAN phase starts from the pre-training's EMA
weights and D keeps no EMA (training/trainer.py).

Departures from the official Real-ESRGAN data pipeline (named here, kept for now): BasicSR's
``RealESRGANDataset`` degrades a 400 px crop and its model cuts ``gt_size`` 256 from the result,
with flips only (``use_rot: False``); this pipeline degrades the ``hr_size`` crop itself and adds
the 90 degree rotations the other presets use (data/batches.py).
"""

from __future__ import annotations

ESRGAN = {
    # ESRGAN §3.1: RRDBNet, 23 RRDBs of 64 features; the VGG-style discriminator, 128 px crops
    "generator": "rrdbnet",
    "num_blocks": 23,
    "num_filters": 64,
    "discriminator": "vgg",  # BasicSR VGGStyleDiscriminator (nn/vgg_discriminator.py), 14.5 M params
    "hr_size": 128,  # §4.1: "the spatial size of cropped HR patch is 128 x 128"
    "batch_size": 16,  # §4.1
    # §4.1 pre-training: L1, lr 2e-4 halved every 2e5 mini-batch updates
    "pretrain_loss": "l1",
    "pretrain_lr": 2e-4,
    "pretrain_steps": 1_000_000,  # BasicSR ESRGAN PSNR model (the paper gives the decay only)
    "pretrain_milestones": (200_000, 400_000, 600_000, 800_000),
    "lr_schedule": "multistep",
    "lr_gamma": 0.5,
    # §3.3-3.4 and §4.1 GAN phase: L_G = L_percep + 5e-3 L_G^Ra + 1e-2 L_1
    "content_loss": "vgg54_preact",  # VGG19 conv5_4 before activation, L1 criterion
    "vgg_weights": "torchvision",  # BasicSR's VGGFeatureExtractor: torchvision's vgg19-dcbb9e9d.pth
    "content_weight": 1.0,
    "adv_loss": "ragan",
    # Paper's lambda with Eq. 2's *sum* of two terms (losses.RelativisticAverageGAN); the
    # official code averages them, i.e. half this effective weight.
    "adv_weight": 5e-3,
    "pixel_loss": "l1",
    "pixel_weight": 1e-2,  # eta
    "gan_lr": 1e-4,
    "gan_steps": 400_000,  # BasicSR ESRGAN GAN model
    "gan_milestones": (50_000, 100_000, 200_000, 300_000),  # §4.1: halved at these steps
    "beta1": 0.9,  # §4.1: Adam beta1 = 0.9, beta2 = 0.999
    "beta2": 0.999,
    "ema_decay": 0.0,  # the paper uses none; --ema-decay 0.999 as BasicSR
}

REALESRGAN = {
    # Real-ESRGAN §4.1 and options/train_realesr{net,gan}_x4plus.yml
    "generator": "rrdbnet",
    "num_blocks": 23,
    "num_filters": 64,
    "discriminator": "unet",  # U-Net with spectral normalization (§3, Fig. 6)
    "degradation": "realesrgan",  # second-order degradations (§3, Fig. 2), realesrgan_degradation.py
    "usm_gt": True,  # l1_gt_usm, percep_gt_usm: sharpened targets; the discriminator sees plain HR
    "hr_size": 256,  # gt_size
    "batch_size": 48,  # 12 per GPU x 4 GPUs
    # Real-ESRNet (pre-training): L1, lr 2e-4, 1e6 steps (its one milestone is the last step)
    "pretrain_loss": "l1",
    "pretrain_lr": 2e-4,
    "pretrain_steps": 1_000_000,
    "pretrain_milestones": (),
    "lr_schedule": "multistep",
    "lr_gamma": 0.5,
    # Real-ESRGAN: L1 1 + multi-layer perceptual 1 + vanilla GAN 0.1, lr 1e-4, 4e5 steps
    "pixel_loss": "l1",
    "pixel_weight": 1.0,
    "content_loss": "multi_preact",  # conv1_2 .. conv5_4 weighted 0.1, 0.1, 1, 1, 1; L1
    "vgg_weights": "torchvision",  # as ESRGAN: the VGG19 these weights were tuned on
    "content_weight": 1.0,
    "adv_loss": "vanilla",
    "adv_weight": 0.1,
    "gan_lr": 1e-4,
    "gan_steps": 400_000,
    "gan_milestones": (),  # as above: the one milestone is the last step
    "beta1": 0.9,
    "beta2": 0.99,  # optim_g/optim_d betas [0.9, 0.99]
    "ema_decay": 0.999,
}


# Overrides of the paper defaults. Say why beside each departure.
PRESETS: dict[str, dict] = {
    # The paper's schedule and settings, unchanged (needs a GPU and VGG19 ImageNet weights).
    "paper": {},
    # Ends in under 10 minutes on 2 CPU cores and beats bicubic. Departures from the paper:
    # - global_residual: the network learns a correction on top of bicubic, starting exactly at
    #   bicubic (the paper's SRResNet takes ~1e4+ steps just to reach bicubic);
    # - lr 1e-3 with warm-up and cosine decay over 1,000 steps (fewer end near bicubic);
    # - 8 blocks, batch 8, 64 px crops: more steps in the budget;
    # - MSE content loss in the GAN phase (VGG weights cannot be assumed offline: SRGAN-MSE).
    "demo": {
        "num_blocks": 8,
        "batch_size": 8,
        "hr_size": 64,
        "global_residual": True,
        "pretrain_steps": 1000,
        "gan_steps": 50,
        "pretrain_lr": 1e-3,
        "gan_lr": 1e-5,
        "lr_schedule": "cosine",
        "warmup_steps": 20,
        "gan_milestones": (),
        "content_loss": "mse",
        "val_every": 250,
        "ckpt_every": 100,
        "log_every": 10,
    },
    # Seconds, for tests: a 2-block, 8-filter model on 32 px crops.
    "tiny": {
        "num_blocks": 2,
        "num_filters": 8,
        "disc_filters": 8,
        "batch_size": 2,
        "hr_size": 64,
        "pretrain_steps": 4,
        "gan_steps": 2,
        "pretrain_lr": 1e-3,
        "gan_lr": 1e-4,
        "gan_milestones": (),
        "content_loss": "mse",
        "jit_compile": False,
        "val_every": 4,
        "ckpt_every": 2,
        "log_every": 1,
        "val_images": 1,
    },
    "esrgan": ESRGAN,
    "realesrgan": REALESRGAN,
}
