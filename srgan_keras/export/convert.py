"""``python -m srgan_keras.convert``: the published ESRGAN / Real-ESRGAN PyTorch weights as .keras.

    python -m srgan_keras.convert RealESRGAN_x4plus.pth -o realesrgan_x4plus.keras
    python -m srgan_keras.convert RealESRGAN_x2plus.pth -o realesrgan_x2plus.keras
    python -m srgan_keras.convert ESRGAN_SRx4_DF2KOST_official-ff704c30.pth -o esrgan_x4.keras

Reads BasicSR's RRDBNet state dicts (``params_ema`` preferred over ``params``) through the
restricted unpickler of :mod:`srgan_keras.export.torch_pickle` -- no torch needed, no code run -- and
copies them by name into :func:`~srgan_keras.nn.rrdbnet.build_rrdbnet`. The architecture (scale,
features, blocks, growth) is read off the weight shapes. Two layout changes:

- convolution kernels: PyTorch ``(out, in, kh, kw)`` -> Keras ``(kh, kw, in, out)``;
- x2 and x1 models pixel-unshuffle their input. PyTorch's ``F.pixel_unshuffle`` orders the
  ``C r^2`` channels as ``c r^2 + i r + j`` (channel-major), TensorFlow's ``space_to_depth`` as
  ``(i r + j) C + c`` (offset-major), so ``conv_first``'s input channels are permuted.
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np

from srgan_keras.export.torch_pickle import TorchFileError, load_state_dict

IN_CHANNELS_TO_SCALE = {3: 4, 12: 2, 48: 1}  # conv_first input channels: 3, 3*2^2, 3*4^2


class ConversionError(ValueError):
    """The state dict is not one of BasicSR's RRDBNets."""


def keras_layer_name(torch_name: str) -> str:
    """``body.3.rdb2.conv5`` -> ``body_3_rdb2_conv5`` (the names of rrdbnet.py)."""
    return torch_name.replace(".", "_")


def unshuffle_permutation(r: int, channels: int = 3) -> np.ndarray:
    """``perm[k]``: the PyTorch pixel-unshuffle channel that is TensorFlow's channel ``k``."""
    perm = np.empty(channels * r * r, dtype=np.int64)
    for i in range(r):
        for j in range(r):
            for c in range(channels):
                perm[(i * r + j) * channels + c] = c * r * r + i * r + j
    return perm


def rrdbnet_shape(sd: dict[str, np.ndarray]) -> dict[str, int]:
    """``build_rrdbnet`` arguments read off the weight shapes; a clear error for other nets."""
    if "conv_first.weight" not in sd or "body.0.rdb1.conv1.weight" not in sd:
        some = ", ".join(list(sd)[:4])
        raise ConversionError(
            f"not a BasicSR RRDBNet state dict (keys start {some}, ...); this converter reads "
            "ESRGAN/Real-ESRGAN RRDBNet weights (conv_first, body.N.rdbK.convJ, conv_body, "
            "conv_up1/2, conv_hr, conv_last), not e.g. SRVGGNetCompact (realesr-general-x4v3)")
    in_ch = sd["conv_first.weight"].shape[1]
    if in_ch not in IN_CHANNELS_TO_SCALE:
        raise ConversionError(f"conv_first has {in_ch} input channels; expected 3 (x4), "
                              "12 (x2) or 48 (x1)")
    blocks = {int(m.group(1)) for k in sd if (m := re.match(r"body\.(\d+)\.", k))}
    return {"scale": IN_CHANNELS_TO_SCALE[in_ch], "num_feat": sd["conv_first.weight"].shape[0],
            "num_block": max(blocks) + 1,
            "num_grow_ch": sd["body.0.rdb1.conv1.weight"].shape[0]}


def convert_state_dict(sd: dict[str, np.ndarray]):
    """A Keras RRDBNet holding the weights of BasicSR state dict ``sd`` (every key used once)."""
    from srgan_keras.nn.rrdbnet import UNSHUFFLE, build_rrdbnet

    args = rrdbnet_shape(sd)
    model = build_rrdbnet(**args)
    used, filled = set(), set()
    for wkey in [k for k in sd if k.endswith(".weight")]:
        prefix = wkey[: -len(".weight")]
        try:
            layer = model.get_layer(keras_layer_name(prefix))
        except ValueError:
            raise ConversionError(f"{wkey}: RRDBNet has no layer {prefix}; is this a different "
                                  "architecture?") from None
        if sd[wkey].ndim != 4:
            raise ConversionError(f"{wkey} has shape {sd[wkey].shape}; RRDBNet holds only "
                                  "convolutions (4-D weights)")
        kernel = sd[wkey].astype(np.float32).transpose(2, 3, 1, 0)  # OIHW -> HWIO
        if prefix == "conv_first" and UNSHUFFLE[args["scale"]] > 1:
            kernel = kernel[:, :, unshuffle_permutation(UNSHUFFLE[args["scale"]]), :]
        values = [kernel, sd.get(prefix + ".bias", np.zeros(0)).astype(np.float32)]
        expected = [tuple(w.shape) for w in layer.get_weights()]
        if expected != [v.shape for v in values]:
            raise ConversionError(f"{prefix}: shapes {[v.shape for v in values]} do not fit "
                                  f"layer {layer.name} {expected}")
        layer.set_weights(values)
        used |= {wkey, prefix + ".bias"}
        filled.add(layer.name)
    missing = [layer.name for layer in model.layers if layer.weights and layer.name not in filled]
    unused = sorted(set(sd) - used)
    if missing or unused:
        raise ConversionError(f"the file does not match RRDBNet: layers without weights "
                              f"{missing[:3]}, tensors without a layer {unused[:3]}")
    return model


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        description="Convert a BasicSR ESRGAN/Real-ESRGAN RRDBNet .pth (params_ema or params) "
                    "to a Keras .keras generator (input and output in [0, 1]). No torch needed.")
    p.add_argument("pth", help="PyTorch checkpoint, e.g. RealESRGAN_x4plus.pth")
    p.add_argument("-o", "--output", required=True, help="the .keras file to write")
    p.add_argument("--key", default=None,
                   help="entry of the checkpoint holding the weights (default: params_ema, "
                        "else params, else the file itself)")
    a = p.parse_args(argv)
    if not a.output.endswith(".keras"):
        print(f"error: -o {a.output}: the output must end in .keras", file=sys.stderr)
        return 2
    try:
        sd = load_state_dict(a.pth, a.key)
        model = convert_state_dict(sd)
    except (TorchFileError, ConversionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    from srgan_keras.data.imaging import atomic_write

    atomic_write(a.output, model.save)
    shape = rrdbnet_shape(sd)
    print(f"{a.pth} -> {a.output}: RRDBNet x{shape['scale']}, {shape['num_block']} blocks, "
          f"{shape['num_feat']} features, growth {shape['num_grow_ch']}, "
          f"{model.count_params():,} parameters")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
