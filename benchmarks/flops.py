"""Analytic FLOP counts of the networks, to turn step times into achieved GFLOP/s.

Convention: one multiply-accumulate (MAC) = 2 FLOPs; only ``Conv2D``, ``Conv2DTranspose`` and
``Dense`` layers are counted (biases, batch norm, activations, pixel shuffle and the optimizer
are elementwise and a rounding error next to the convolutions). A training step is counted as
about 3x the forward pass (forward, gradient w.r.t. activations, gradient w.r.t. weights).

The paper's SRResNet (B=16, 64 filters, x4) on one 24x24 LR image, by hand (MACs = output
pixels x output channels x kernel area x input channels):

=====================  ==============================  ===============
layer                  output pixels x MACs per pixel  MACs
=====================  ==============================  ===============
head k9n64s1           576 x 64 x (81 x 3)                 8,957,952
32 block convs k3n64   32 x 576 x 64 x (9 x 64)          679,477,248
body conv k3n64        576 x 64 x (9 x 64)                21,233,664
up0 k3n256 at 24x24    576 x 256 x (9 x 64)               84,934,656
up1 k3n256 at 48x48    2304 x 256 x (9 x 64)             339,738,624
tail k9n3 at 96x96     9216 x 3 x (81 x 64)              143,327,232
**total**                                              1,277,669,376
=====================  ==============================  ===============

So 2.555 GFLOP per image forward, 40.88 GFLOP per batch of 16, and 3 x 40.88 = 122.6 GFLOP per
SRResNet MSE step at batch 16, HR 96: the issue's "~123 GFLOP" checks out.
"""

from __future__ import annotations

import keras

SRRESNET_FORWARD_FLOPS_24 = 2 * 1_277_669_376  # one 24x24 LR image, paper SRResNet (table above)
TRAIN_FACTOR = 3  # forward + backward (activations) + backward (weights)


def conv2d_flops(out_h: int, out_w: int, out_ch: int, kernel_h: int, kernel_w: int, in_ch: int,
                 groups: int = 1) -> int:
    """FLOPs (2 x MACs) of one convolution producing an ``out_h x out_w x out_ch`` map."""
    return 2 * out_h * out_w * out_ch * kernel_h * kernel_w * (in_ch // groups)


def _concrete(model: keras.Model, input_hw: tuple[int, int] | None) -> keras.Model:
    """``model`` re-traced on an input with fixed H and W, so every layer's shape is known."""
    if input_hw is None:
        return model
    channels = model.inputs[0].shape[-1]
    inp = keras.Input(shape=(*input_hw, channels), batch_size=1)
    return keras.models.clone_model(model, input_tensors=inp)


def forward_flops(model: keras.Model, input_hw: tuple[int, int] | None = None) -> int:
    """Forward FLOPs of ``model`` for ONE image of ``input_hw`` (H, W); None uses the model's.

    Walks the layers (nested models included) and sums :func:`conv2d_flops` of every Conv2D /
    Conv2DTranspose and ``2 x in x out`` of every Dense.
    """
    return _layer_flops(_concrete(model, input_hw))


def _layer_flops(model: keras.Model) -> int:
    return sum(per_layer_flops(model).values())


def per_layer_flops(model: keras.Model, input_hw: tuple[int, int] | None = None) -> dict[str, int]:
    """Forward FLOPs of each Conv2D / Conv2DTranspose / Dense layer for ONE image, by layer name."""
    flops: dict[str, int] = {}
    for layer in _concrete(model, input_hw).layers:
        if isinstance(layer, keras.Model):
            flops.update(per_layer_flops(layer))
        elif isinstance(layer, keras.layers.Conv2DTranspose):  # before Conv2D: it subclasses it
            _, h, w, c_in = layer.input.shape  # each input pixel scatters a kh x kw x C_out patch
            kh, kw = layer.kernel_size
            flops[layer.name] = 2 * h * w * c_in * kh * kw * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            c_in = layer.input.shape[-1]
            _, h, w, c_out = layer.output.shape
            flops[layer.name] = conv2d_flops(h, w, c_out, *layer.kernel_size, c_in, layer.groups)
        elif isinstance(layer, keras.layers.Dense):
            shape = layer.input.shape
            rows = 1
            for d in shape[1:-1]:
                rows *= d
            flops[layer.name] = 2 * rows * shape[-1] * layer.units
    return flops


def srresnet_step_flops(generator: keras.Model, batch: int, lr_hw: tuple[int, int]) -> int:
    """FLOPs of one MSE (pre-training) step: 3 x G forward x batch."""
    return TRAIN_FACTOR * batch * forward_flops(generator, lr_hw)


def srgan_step_flops(generator: keras.Model, discriminator: keras.Model, batch: int,
                     lr_hw: tuple[int, int], content_net: keras.Model | None = None) -> int:
    """FLOPs of one full SRGAN step (``SRGAN.train_step``), about 3x forward for every pass.

    G: one forward and its backward (3 G forwards). D: three passes, D(HR) and D(SR) for the D
    update and D(SR) again for the G update, each counted 3x (the last one's backward needs no
    weight gradients, so this slightly over-counts). A VGG ``content_net``: once on HR (forward
    only) and once on SR with backward, counted 1 + 3 forwards.
    """
    hr_hw = tuple(int(d) for d in discriminator.inputs[0].shape[1:3])
    g = TRAIN_FACTOR * forward_flops(generator, lr_hw)
    d = 3 * TRAIN_FACTOR * forward_flops(discriminator)
    vgg = (1 + TRAIN_FACTOR) * forward_flops(content_net, hr_hw) if content_net is not None else 0
    return batch * (g + d + vgg)
