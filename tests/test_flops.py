"""The analytic FLOP counter of the benchmarks (benchmarks/flops.py), checked by hand."""

from __future__ import annotations

import keras

from benchmarks.flops import SRRESNET_FORWARD_FLOPS_24, forward_flops, srresnet_step_flops
from srgan_keras.nn.srresnet import build_srresnet


def test_one_conv_layer_by_hand():
    # 3x3 conv, 8 -> 16 channels, stride 2, 'same' on 10x12: output 5x6, so
    # MACs = 5 * 6 pixels * 16 channels * (3 * 3 * 8) = 34,560 and FLOPs = 69,120.
    inp = keras.Input((10, 12, 8))
    out = keras.layers.Conv2D(16, 3, strides=2, padding="same")(inp)
    assert forward_flops(keras.Model(inp, out)) == 69_120


def test_dense_layer_by_hand():
    inp = keras.Input((20,))
    out = keras.layers.Dense(7)(inp)
    assert forward_flops(keras.Model(inp, out)) == 2 * 20 * 7


def test_srresnet_forward_matches_the_docstring_table():
    g = build_srresnet()  # paper: x4, 16 blocks, 64 filters; input (None, None, 3)
    assert forward_flops(g, (24, 24)) == SRRESNET_FORWARD_FLOPS_24 == 2_555_338_752
    # The "~123 GFLOP per SRResNet MSE step at batch 16, HR 96".
    assert round(srresnet_step_flops(g, 16, (24, 24)) / 1e9) == 123
