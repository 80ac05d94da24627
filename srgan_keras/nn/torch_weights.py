"""Published PyTorch weights (BasicSR, Real-ESRGAN, ESRGAN state dicts) in our networks.

A state dict (read by :mod:`srgan_keras.data.torch_pickle`: no torch, no code run) is
recognised from its key names and weight shapes, as spandrel does
for PyTorch (our own, smaller table; each entry's ``detect`` looks only at keys and shapes):

- BasicSR's RRDBNet (ESRGAN and Real-ESRGAN, ``basicsr/archs/rrdbnet_arch.py``): ``conv_first``,
  ``body.N.rdbK.convJ``, ``conv_body``, ``conv_up1/2``, ``conv_hr``, ``conv_last``; scale from
  ``conv_first``'s input channels (3, 12, 48: x4, x2, x1), blocks, features and growth from the
  rest. ``RealESRGAN_x4plus.pth``, ``RealESRGAN_x2plus.pth``, BasicSR's ESRGAN;
- the original ESRGAN repository's RRDBNet (xinntao/ESRGAN ``RRDBNet_arch.py``): the same network
  named ``RRDB_trunk.N.RDBk.convj``, ``trunk_conv``, ``upconv1/2``, ``HRconv``, always x4.
  ``RRDB_ESRGAN_x4.pth``, ``RRDB_PSNR_x4.pth`` (legacy file format);
- Real-ESRGAN's SRVGGNetCompact (``realesrgan/archs/srvgg_arch.py``): ``body.N.weight/bias``,
  even N convolutions, odd N the PReLUs' per-channel slopes; ``num_conv`` from the number of
  convolutions, scale from the last one's ``3 s^2`` output channels.
  ``realesr-general-x4v3.pth``, ``realesr-general-wdn-x4v3.pth``, ``realesr-animevideov3.pth``,
  ``RealESRGANv2-animevideo-xsx2.pth`` / ``-xsx4.pth``.

Weights are copied by name into :func:`~srgan_keras.nn.rrdbnet.build_rrdbnet` or
:func:`~srgan_keras.nn.srvgg.build_srvgg`, every tensor used once and every layer filled. Layout
changes:

- convolution kernels: PyTorch ``(out, in, kh, kw)`` -> Keras ``(kh, kw, in, out)``;
- PReLU slopes: ``(C,)`` -> Keras' ``(1, 1, C)`` (shared over height and width);
- PyTorch's ``pixel_unshuffle`` / ``PixelShuffle`` order the ``C r^2`` channels as
  ``c r^2 + i r + j`` (channel-major), TensorFlow's ``space_to_depth`` / ``depth_to_space`` as
  ``(i r + j) C + c`` (offset-major): RRDBNet x2/x1 permute ``conv_first``'s input channels,
  SRVGGNetCompact its last convolution's output channels.

The ``convert`` command (:mod:`srgan_keras.export.convert`) and the model zoo
(:mod:`srgan_keras.inference.zoo`) both use :func:`convert_state_dict`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from srgan_keras.errors import SrganKerasError

StateDict = dict[str, np.ndarray]
IN_CHANNELS_TO_SCALE = {3: 4, 12: 2, 48: 1}  # conv_first input channels: 3, 3*2^2, 3*4^2


class ConversionError(SrganKerasError, ValueError):
    """The state dict is not one of the architectures this converter knows."""


def keras_layer_name(torch_name: str) -> str:
    """``body.3.rdb2.conv5`` -> ``body_3_rdb2_conv5`` (the names of rrdbnet.py and srvgg.py)."""
    return torch_name.replace(".", "_")


def shuffle_permutation(r: int, channels: int = 3) -> np.ndarray:
    """``perm[k]``: the PyTorch (un)shuffle channel that is TensorFlow's channel ``k``.

    The same for ``pixel_unshuffle`` vs ``space_to_depth`` and ``PixelShuffle`` vs
    ``depth_to_space``: both pairs lay ``C r^2`` channels out as described in the module docstring.
    """
    perm = np.empty(channels * r * r, dtype=np.int64)
    for i in range(r):
        for j in range(r):
            for c in range(channels):
                perm[(i * r + j) * channels + c] = c * r * r + i * r + j
    return perm


unshuffle_permutation = shuffle_permutation  # the name RRDBNet's x2/x1 input uses


def _shape(sd: StateDict, key: str) -> tuple[int, ...]:
    return tuple(sd[key].shape)


# ---------------------------------------------------------------------------------------------
# RRDBNet: BasicSR naming, and the original ESRGAN repository's naming mapped onto it

def is_basicsr_rrdbnet(sd: StateDict) -> bool:
    return "conv_first.weight" in sd and "body.0.rdb1.conv1.weight" in sd


ESRGAN_RENAMES = (  # original ESRGAN RRDBNet_arch.py name -> BasicSR rrdbnet_arch.py name
    (r"^RRDB_trunk\.(\d+)\.RDB([123])\.", r"body.\1.rdb\2."),
    (r"^trunk_conv\.", "conv_body."),
    (r"^upconv([12])\.", r"conv_up\1."),
    (r"^HRconv\.", "conv_hr."),
)


def is_esrgan_rrdbnet(sd: StateDict) -> bool:
    return "conv_first.weight" in sd and "RRDB_trunk.0.RDB1.conv1.weight" in sd \
        and "trunk_conv.weight" in sd


def esrgan_to_basicsr(sd: StateDict) -> StateDict:
    """The original ESRGAN names rewritten as BasicSR's (the tensors are the same)."""
    out = {}
    for k, v in sd.items():
        for pattern, repl in ESRGAN_RENAMES:
            k = re.sub(pattern, repl, k)
        out[k] = v
    return out


def rrdbnet_shape(sd: StateDict) -> dict[str, int]:
    """``build_rrdbnet`` arguments read off a BasicSR-named RRDBNet's weight shapes."""
    in_ch = _shape(sd, "conv_first.weight")[1]
    if in_ch not in IN_CHANNELS_TO_SCALE:
        raise ConversionError(f"conv_first has {in_ch} input channels; expected 3 (x4), "
                              "12 (x2) or 48 (x1)")
    blocks = {int(m.group(1)) for k in sd if (m := re.match(r"body\.(\d+)\.", k))}
    return {"scale": IN_CHANNELS_TO_SCALE[in_ch], "num_feat": _shape(sd, "conv_first.weight")[0],
            "num_block": max(blocks) + 1,
            "num_grow_ch": _shape(sd, "body.0.rdb1.conv1.weight")[0]}


def convert_rrdbnet(sd: StateDict):
    from srgan_keras.nn.rrdbnet import UNSHUFFLE, build_rrdbnet

    args = rrdbnet_shape(sd)
    model = build_rrdbnet(**args)
    r = UNSHUFFLE[args["scale"]]
    permute = {"conv_first": ("in", shuffle_permutation(r))} if r > 1 else {}
    copy_weights(model, sd, permute, "RRDBNet")
    return model


# ---------------------------------------------------------------------------------------------
# SRVGGNetCompact

def _body_indices(sd: StateDict) -> list[int] | None:
    """The ``N`` of ``body.N.*`` if every key is one, else None."""
    found = [re.fullmatch(r"body\.(\d+)\.(weight|bias)", k) for k in sd]
    return sorted({int(m.group(1)) for m in found}) if all(found) else None


def is_srvgg(sd: StateDict) -> bool:
    idx = _body_indices(sd)
    return bool(idx) and "body.0.weight" in sd and sd["body.0.weight"].ndim == 4 \
        and "body.1.weight" in sd and sd["body.1.weight"].ndim == 1


def srvgg_shape(sd: StateDict) -> dict[str, int]:
    """``build_srvgg`` arguments: ``num_conv`` from the number of convolutions, the scale from
    the last one's ``3 s^2`` outputs."""
    from srgan_keras.nn.srvgg import SCALES

    idx = _body_indices(sd) or []
    last = idx[-1]
    expected = list(range(last + 1))
    if idx != expected or last % 2 or last < 4:
        raise ConversionError(f"SRVGGNetCompact body indices {idx[:6]}...: expected body.0 to "
                              "body.2n+2 with a PReLU after every convolution but the last "
                              "(relu/leakyrelu variants have no slopes and are not supported)")
    out_ch = _shape(sd, f"body.{last}.weight")[0]
    scale = math.isqrt(out_ch // 3)
    if 3 * scale * scale != out_ch or scale not in SCALES:
        raise ConversionError(f"the last convolution has {out_ch} outputs; expected 3 s^2 for "
                              f"a scale s in {SCALES}")
    return {"scale": scale, "num_feat": _shape(sd, "body.0.weight")[0],
            "num_conv": (last - 2) // 2}


def convert_srvgg(sd: StateDict):
    from srgan_keras.nn.srvgg import build_srvgg

    args = srvgg_shape(sd)
    model = build_srvgg(**args)
    last = f"body_{2 * args['num_conv'] + 2}"
    copy_weights(model, sd, {last: ("out", shuffle_permutation(args["scale"]))},
                 "SRVGGNetCompact")
    return model


# ---------------------------------------------------------------------------------------------
# Detection and the copy by name

@dataclass(frozen=True)
class Architecture:
    """One known state-dict layout: how to recognise it, convert it and describe it."""

    name: str
    detect: Callable[[StateDict], bool]
    convert: Callable[[StateDict], object]
    describe: Callable[[StateDict], str]


def _describe_rrdbnet(sd: StateDict) -> str:
    a = rrdbnet_shape(sd)
    return (f"x{a['scale']}, {a['num_block']} blocks, {a['num_feat']} features, growth "
            f"{a['num_grow_ch']}")


def _describe_srvgg(sd: StateDict) -> str:
    a = srvgg_shape(sd)
    return f"x{a['scale']}, {a['num_conv']} body convolutions, {a['num_feat']} features"


ARCHITECTURES = (
    Architecture("RRDBNet (BasicSR / Real-ESRGAN names)", is_basicsr_rrdbnet, convert_rrdbnet,
                 _describe_rrdbnet),
    Architecture("RRDBNet (original ESRGAN names)", is_esrgan_rrdbnet,
                 lambda sd: convert_rrdbnet(esrgan_to_basicsr(sd)),
                 lambda sd: _describe_rrdbnet(esrgan_to_basicsr(sd))),
    Architecture("SRVGGNetCompact (Real-ESRGAN compact)", is_srvgg, convert_srvgg,
                 _describe_srvgg),
)


def detect_architecture(sd: StateDict) -> Architecture:
    """The one entry of :data:`ARCHITECTURES` whose keys and shapes ``sd`` has; else a sentence."""
    found = [a for a in ARCHITECTURES if a.detect(sd)]
    if len(found) != 1:
        some = ", ".join(list(sd)[:3])
        what = "matches several" if found else "matches none"
        raise ConversionError(
            f"unknown architecture: the state dict (keys {some}, ...) {what} of the layouts "
            "this converter reads (BasicSR/Real-ESRGAN RRDBNet, original ESRGAN RRDBNet, "
            "Real-ESRGAN SRVGGNetCompact)")
    return found[0]


def copy_weights(model, sd: StateDict, permute: dict[str, tuple[str, np.ndarray]],
                 arch: str) -> None:
    """Set every layer of ``model`` from ``sd`` by name (``a.b.weight`` -> layer ``a_b``).

    4-D weights are convolutions (OIHW -> HWIO), 1-D weights without a bias PReLU slopes.
    ``permute[layer] = ("in" | "out", perm)`` reorders a kernel's input or output channels (and
    an output permutation the bias too). Every tensor must be used and every layer filled.
    """
    used, filled = set(), set()
    for wkey in [k for k in sd if k.endswith(".weight")]:
        prefix = wkey[: -len(".weight")]
        try:
            layer = model.get_layer(keras_layer_name(prefix))
        except ValueError:
            raise ConversionError(f"{wkey}: {arch} has no layer {prefix}; is this a different "
                                  "architecture?") from None
        w = sd[wkey].astype(np.float32)
        expected = [tuple(v.shape) for v in layer.get_weights()]
        if w.ndim == 4:
            values = [w.transpose(2, 3, 1, 0)]  # OIHW -> HWIO
            if prefix + ".bias" in sd:
                values.append(sd[prefix + ".bias"].astype(np.float32))
            side, perm = permute.get(layer.name, (None, None))
            if side == "in":
                values[0] = values[0][:, :, perm, :]
            elif side == "out":
                values = [values[0][..., perm]] + [b[perm] for b in values[1:]]
        elif w.ndim == 1 and prefix + ".bias" not in sd and len(expected) == 1:
            values = [w.reshape(expected[0]) if math.prod(expected[0]) == w.size else w]
        else:
            raise ConversionError(f"{wkey} has shape {w.shape}; {arch} holds only convolutions "
                                  "(4-D) and PReLU slopes (1-D)")
        if expected != [v.shape for v in values]:
            raise ConversionError(f"{prefix}: shapes {[v.shape for v in values]} do not fit "
                                  f"layer {layer.name} {expected}")
        layer.set_weights(values)
        used |= {wkey, prefix + ".bias"}
        filled.add(layer.name)
    missing = [layer.name for layer in model.layers if layer.weights and layer.name not in filled]
    unused = sorted(set(sd) - used)
    if missing or unused:
        raise ConversionError(f"the file does not match {arch}: layers without weights "
                              f"{missing[:3]}, tensors without a layer {unused[:3]}")


def strip_data_parallel(sd: StateDict) -> StateDict:
    """``module.conv_first.weight`` -> ``conv_first.weight``: a model trained inside PyTorch's
    ``DataParallel`` saves every key with that prefix (spandrel strips it too)."""
    if sd and all(k.startswith("module.") for k in sd):
        return {k[len("module."):]: v for k, v in sd.items()}
    return sd


def convert_state_dict(sd: StateDict):
    """A Keras generator holding the weights of ``sd``, its architecture detected."""
    sd = strip_data_parallel(sd)
    return detect_architecture(sd).convert(sd)
