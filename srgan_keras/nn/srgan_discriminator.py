"""The SRGAN discriminator (Ledig et al. 2017, Fig. 4, bottom).

Eight 3x3 convolutions, filters doubling 64 -> 512 and stride 2 whenever they double (plus the
first pair), LeakyReLU alpha 0.2 (paper §2.3), batch norm everywhere but the first layer, then
Dense(1024), LeakyReLU and Dense(1). It returns **logits**: the sigmoid of Fig. 4 lives inside
the loss (``from_logits=True``), which is numerically stabler and the same function.
"""

from __future__ import annotations

import keras
from keras import layers

from srgan_keras.nn.layers import BatchNormalization

LEAKY_SLOPE = 0.2  # paper §2.3: "LeakyReLU activation (alpha = 0.2)"

# (filters, stride) of the seven conv blocks after the first, Fig. 4: k3n64s2, k3n128s1, ...
CONV_BLOCKS = ((64, 2), (128, 1), (128, 2), (256, 1), (256, 2), (512, 1), (512, 2))


def build_discriminator(hr_size: int = 96, num_filters: int = 64,
                        name: str = "discriminator") -> keras.Model:
    """Fig. 4's discriminator for ``hr_size`` x ``hr_size`` images in [-1, 1]; returns logits.

    The dense head makes the input size fixed (the paper trains on 96x96 crops). ``num_filters``
    scales every width (64 in the paper), for tiny test models.
    """
    if hr_size % 16:
        raise ValueError(f"hr_size must be a multiple of 16 (four stride-2 convs), got {hr_size}")
    width = num_filters / 64
    hr = keras.Input(shape=(hr_size, hr_size, 3), name="hr")
    x = layers.Conv2D(num_filters, 3, padding="same", name="conv0")(hr)  # k3n64s1, no BN
    x = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu0")(x)
    for i, (filters, stride) in enumerate(CONV_BLOCKS, start=1):
        x = layers.Conv2D(int(filters * width), 3, strides=stride, padding="same",
                          name=f"conv{i}")(x)  # k3n{filters}s{stride}
        x = BatchNormalization(name=f"bn{i}")(x)
        x = layers.LeakyReLU(LEAKY_SLOPE, name=f"lrelu{i}")(x)
    x = layers.Flatten(name="flatten")(x)  # (B, hr/16 * hr/16 * 512)
    x = layers.Dense(int(1024 * width), name="dense1024")(x)
    x = layers.LeakyReLU(LEAKY_SLOPE, name="lrelu_dense")(x)
    logits = layers.Dense(1, name="logits", dtype="float32")(x)
    return keras.Model(hr, logits, name=name)
