"""Build the networks a :class:`~srgan_keras.training.config.TrainConfig` names (SRGAN's or ESRGAN's)."""

from __future__ import annotations

import keras

from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.training.config import TrainConfig


def build_generator(cfg: TrainConfig) -> keras.Model:
    """SRResNet (SRGAN Fig. 4), RRDBNet (ESRGAN §3.1) or SRVGGNetCompact (Real-ESRGAN)."""
    if cfg.generator == "srvgg":
        from srgan_keras.nn.srvgg import build_srvgg

        return build_srvgg(scale=cfg.scale, num_feat=cfg.num_filters, num_conv=cfg.num_conv,
                           icnr=cfg.icnr)
    if cfg.generator == "rrdbnet":
        from srgan_keras.nn.rrdbnet import build_rrdbnet

        return build_rrdbnet(scale=cfg.scale, num_feat=cfg.num_filters, num_block=cfg.num_blocks)
    return build_srresnet(scale=cfg.scale, num_blocks=cfg.num_blocks, num_filters=cfg.num_filters,
                          upsampler=cfg.upsampler, global_residual=cfg.global_residual, icnr=cfg.icnr)


def build_critic(cfg: TrainConfig) -> keras.Model:
    """SRGAN's discriminator (Fig. 4), ESRGAN's VGG-style one or Real-ESRGAN's U-Net with spectral
    norm; inputs in [-1, 1]."""
    if cfg.discriminator == "vgg":
        from srgan_keras.nn.vgg_discriminator import build_vgg_discriminator

        return build_vgg_discriminator(hr_size=cfg.hr_size, num_filters=cfg.disc_filters)
    if cfg.discriminator == "unet":
        from srgan_keras.nn.unet_discriminator import build_unet_discriminator

        return build_unet_discriminator(num_feat=cfg.disc_filters)
    return build_discriminator(hr_size=cfg.hr_size, num_filters=cfg.disc_filters)
