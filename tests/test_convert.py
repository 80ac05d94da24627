"""The .pth converter: parity with a PyTorch RRDBNet, and a restricted unpickler that runs no code.

The parity tests need ``pip install torch`` (skipped otherwise); the unpickler tests do not.
"""

from __future__ import annotations

import collections
import os
import pickle
import zipfile

import numpy as np
import pytest

from srgan_keras.data.torch_pickle import (
    TorchFileError,
    UnsafePickleError,
    load_state_dict,
    load_torch_file,
)
from srgan_keras.export import convert
from srgan_keras.nn import torch_weights

# Tiny, as the issue asks: 2 RRDBs, 16 features, growth 8; SRVGG with 2 body convs, 16 features.
NUM_FEAT, NUM_BLOCK, NUM_GROW, NUM_CONV = 16, 2, 8, 2
# Attribute names of the two RRDBNet implementations: BasicSR's rrdbnet_arch.py and the original
# ESRGAN repository's RRDBNet_arch.py (same network, other state-dict keys).
NAMES = {"basicsr": {"trunk": "body", "rdb": "rdb", "body_conv": "conv_body", "up": "conv_up",
                     "hr": "conv_hr"},
         "esrgan": {"trunk": "RRDB_trunk", "rdb": "RDB", "body_conv": "trunk_conv", "up": "upconv",
                    "hr": "HRconv"}}


def torch_rrdbnet(scale: int, names: str = "basicsr"):
    """BasicSR's RRDBNet (basicsr/archs/rrdbnet_arch.py), written out with either naming."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional
    n = NAMES[names]

    class RDB(nn.Module):
        def __init__(self, nf, gc):
            super().__init__()
            for j in range(1, 6):
                setattr(self, f"conv{j}", nn.Conv2d(nf + (j - 1) * gc, nf if j == 5 else gc,
                                                    3, 1, 1))

        def forward(self, x):
            feats = [x]
            for j in range(1, 5):
                feats.append(F.leaky_relu(getattr(self, f"conv{j}")(torch.cat(feats, 1)), 0.2))
            return self.conv5(torch.cat(feats, 1)) * 0.2 + x

    class RRDB(nn.Module):
        def __init__(self, nf, gc):
            super().__init__()
            for k in (1, 2, 3):
                setattr(self, f"{n['rdb']}{k}", RDB(nf, gc))

        def forward(self, x):
            h = x
            for k in (1, 2, 3):
                h = getattr(self, f"{n['rdb']}{k}")(h)
            return h * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self):
            super().__init__()
            in_ch = {4: 3, 2: 12, 1: 48}[scale]
            conv = lambda i, o: nn.Conv2d(i, o, 3, 1, 1)  # noqa: E731
            self.conv_first = conv(in_ch, NUM_FEAT)
            setattr(self, n["trunk"],
                    nn.Sequential(*[RRDB(NUM_FEAT, NUM_GROW) for _ in range(NUM_BLOCK)]))
            for attr in (n["body_conv"], n["up"] + "1", n["up"] + "2", n["hr"]):
                setattr(self, attr, conv(NUM_FEAT, NUM_FEAT))
            self.conv_last = conv(NUM_FEAT, 3)

        def forward(self, x):
            if scale < 4:
                x = F.pixel_unshuffle(x, 4 // scale)
            feat = self.conv_first(x)
            feat = feat + getattr(self, n["body_conv"])(getattr(self, n["trunk"])(feat))
            lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
            for u in ("1", "2"):
                up = F.interpolate(feat, scale_factor=2, mode="nearest")
                feat = lrelu(getattr(self, n["up"] + u)(up))
            return self.conv_last(lrelu(getattr(self, n["hr"])(feat)))

    torch.manual_seed(scale)
    net = RRDBNet().eval()
    with torch.no_grad():  # larger weights than PyTorch's init, so every path matters
        for p in net.parameters():
            p.mul_(3.0)
    return net


def torch_srvgg(scale: int):
    """Real-ESRGAN's SRVGGNetCompact (realesrgan/archs/srvgg_arch.py, act_type='prelu'): the
    benchmark's PyTorch module, at this file's tiny size."""
    torch = pytest.importorskip("torch")
    from benchmarks.bench_srvgg import srvgg_module

    torch.manual_seed(10 + scale)
    net = srvgg_module(NUM_FEAT, NUM_CONV, scale).eval()
    with torch.no_grad():  # random per-channel slopes (PyTorch starts them all at 0.25)
        for name, p in net.named_parameters():
            if p.ndim == 1 and name.endswith("weight"):
                p.uniform_(-0.5, 0.5)
            else:
                p.mul_(2.0)
    return net


def torch_upscale(net, lr: np.ndarray, scale: int, multiple: int | None = None) -> np.ndarray:
    """Real-ESRGAN's inference (RealESRGANer): reflect-pad to a multiple, run, crop. NHWC.

    ``multiple``: RRDBNet x2/x1 need sides divisible by 4 // scale (the default); SRVGG none (1).
    """
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(lr).permute(0, 3, 1, 2)
    h, w = x.shape[2:]
    r = 4 // scale if multiple is None else multiple
    x = torch.nn.functional.pad(x, (0, (-w) % r, 0, (-h) % r), mode="reflect")
    with torch.no_grad():
        out = net(x)[:, :, : h * scale, : w * scale]
    return out.permute(0, 2, 3, 1).numpy()


@pytest.mark.parametrize("scale", [4, 2, 1])
@pytest.mark.parametrize("size", [(12, 16), (13, 15)], ids=["multiple", "odd"])
def test_converted_weights_match_pytorch(tmp_path, scale, size):
    torch = pytest.importorskip("torch")
    net = torch_rrdbnet(scale)
    path = tmp_path / f"rrdbnet_x{scale}.pth"
    torch.save({"params_ema": net.state_dict(), "params": {}}, path)
    model = torch_weights.convert_state_dict(load_state_dict(path))
    assert model.count_params() == sum(p.numel() for p in net.parameters())

    lr = np.random.default_rng(scale).random((2, *size, 3), dtype=np.float32)
    ref = torch_upscale(net, lr, scale)
    ours = np.asarray(model(lr, training=False))
    assert ours.shape == (2, size[0] * scale, size[1] * scale, 3)
    assert ref.std() > 0.1  # the comparison is not of two near-constant images
    assert np.abs(ours - ref).max() < 1e-4


LAYOUTS = {  # name: (PyTorch reference, scale, padding multiple of its inference)
    "basicsr-rrdbnet-x4": (lambda: torch_rrdbnet(4), 4, None),
    "basicsr-rrdbnet-x2": (lambda: torch_rrdbnet(2), 2, None),
    "esrgan-rrdbnet-x4": (lambda: torch_rrdbnet(4, names="esrgan"), 4, None),
    "srvgg-x4": (lambda: torch_srvgg(4), 4, 1),
    "srvgg-x3": (lambda: torch_srvgg(3), 3, 1),
    "srvgg-x2": (lambda: torch_srvgg(2), 2, 1),
}


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_every_layout_is_detected_and_matches_pytorch(tmp_path, layout, legacy):
    """Issue 12.2: each published layout, saved in both torch.save formats, converts to a model
    whose output equals the PyTorch module's; the architecture is read off the keys alone."""
    torch = pytest.importorskip("torch")
    make, scale, multiple = LAYOUTS[layout]
    net = make()
    path = tmp_path / f"{layout}.pth"
    torch.save({"params": net.state_dict()}, path, _use_new_zipfile_serialization=not legacy)
    assert zipfile.is_zipfile(path) is not legacy
    sd = load_state_dict(path)
    arch = torch_weights.detect_architecture(sd)
    assert arch.name.startswith("SRVGG" if layout.startswith("srvgg") else "RRDBNet")
    model = torch_weights.convert_state_dict(sd)
    assert model.count_params() == sum(p.numel() for p in net.parameters())
    lr = np.random.default_rng(len(layout)).random((2, 13, 10, 3), dtype=np.float32)
    ref = torch_upscale(net, lr, scale, multiple)
    ours = np.asarray(model(lr, training=False))
    assert ours.shape == ref.shape == (2, 13 * scale, 10 * scale, 3)
    assert ref.std() > 0.1  # the comparison is not of two near-constant images
    assert np.abs(ours - ref).max() < 1e-4


def test_shuffle_permutation_matches_pixel_shuffle():
    torch = pytest.importorskip("torch")
    import tensorflow as tf

    x = np.random.default_rng(1).random((1, 4, 5, 27), dtype=np.float32)  # 3 * 3^2 channels
    tf_order = tf.nn.depth_to_space(x[..., torch_weights.shuffle_permutation(3)], 3).numpy()
    torch_order = torch.nn.PixelShuffle(3)(
        torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(tf_order, torch_order)


@pytest.mark.parametrize("sd,why", [
    ({"body.0.weight": np.zeros((4, 3, 3, 3), np.float32)}, "no PReLU after the first conv"),
    ({"conv1.weight": np.zeros((4, 3, 3, 3), np.float32)}, "SRCNN-like"),
    ({"model.0.weight": np.zeros((4, 3, 3, 3), np.float32),
      "model.1.sub.0.RDB1.conv1.0.weight": np.zeros((4, 4, 3, 3), np.float32)}, "old-arch ESRGAN"),
], ids=["srvgg-without-slopes", "srcnn", "old-arch-esrgan"])
def test_an_unknown_state_dict_is_refused_in_one_sentence(sd, why):
    with pytest.raises(torch_weights.ConversionError) as e:
        torch_weights.convert_state_dict(sd)
    msg = str(e.value)
    assert msg.startswith("unknown architecture") and "\n" not in msg, why
    assert msg.count(". ") == 0 and "SRVGGNetCompact" in msg


def test_data_parallel_prefix_is_stripped():
    rng = np.random.default_rng(0)
    shapes = {"body.0.weight": (4, 3, 3, 3), "body.0.bias": (4,), "body.1.weight": (4,),
              "body.2.weight": (4, 4, 3, 3), "body.2.bias": (4,), "body.3.weight": (4,),
              "body.4.weight": (12, 4, 3, 3), "body.4.bias": (12,)}
    sd = {k: rng.normal(size=v).astype(np.float32) for k, v in shapes.items()}
    plain = torch_weights.convert_state_dict(sd)
    wrapped = torch_weights.convert_state_dict({f"module.{k}": v for k, v in sd.items()})
    assert plain.count_params() == sum(v.size for v in sd.values())
    for a, b in zip(plain.get_weights(), wrapped.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_srvgg_with_a_bad_last_conv_is_named():
    sd = {"body.0.weight": np.zeros((8, 3, 3, 3), np.float32), "body.0.bias": np.zeros(8),
          "body.1.weight": np.zeros(8, np.float32)}
    for k in (2, 4):
        sd[f"body.{k}.weight"] = np.zeros((8, 8, 3, 3), np.float32)
        sd[f"body.{k}.bias"] = np.zeros(8, np.float32)
    sd["body.3.weight"] = np.zeros(8, np.float32)
    sd["body.4.weight"] = np.zeros((5, 8, 3, 3), np.float32)  # not 3 s^2 outputs
    sd["body.4.bias"] = np.zeros(5, np.float32)
    with pytest.raises(torch_weights.ConversionError, match="5 outputs; expected 3 s"):
        torch_weights.convert_state_dict(sd)


def test_convert_cli_writes_a_loadable_model(tmp_path):
    torch = pytest.importorskip("torch")
    import keras

    import srgan_keras.nn.saving  # noqa: F401  (registers the custom layers)
    from srgan_keras.nn.outputs import output_range

    net = torch_rrdbnet(2)
    torch.save({"params": net.state_dict()}, tmp_path / "x2.pth")
    out = tmp_path / "x2.keras"
    assert convert.main([str(tmp_path / "x2.pth"), "-o", str(out)]) == 0
    model = keras.saving.load_model(out, safe_mode=True)
    assert output_range(model) == "unit"
    lr = np.random.default_rng(0).random((1, 8, 8, 3), dtype=np.float32)
    assert np.abs(np.asarray(model(lr)) - torch_upscale(net, lr, 2)).max() < 1e-4


def test_unshuffle_permutation_matches_pixel_unshuffle():
    torch = pytest.importorskip("torch")
    import tensorflow as tf

    x = np.random.default_rng(0).random((1, 8, 8, 3), dtype=np.float32)
    tf_order = tf.nn.space_to_depth(x, 2).numpy()  # (1, 4, 4, 12)
    torch_order = torch.nn.functional.pixel_unshuffle(
        torch.from_numpy(x).permute(0, 3, 1, 2), 2).permute(0, 2, 3, 1).numpy()
    np.testing.assert_array_equal(tf_order, torch_order[..., torch_weights.unshuffle_permutation(2)])


# ----------------------------------------------------------------------------------------------
# The restricted unpickler, without torch: zip files written by hand.
# ----------------------------------------------------------------------------------------------
def write_torch_zip(path, pickled: bytes, storages: dict[str, bytes] | None = None):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/byteorder", "little")
        for key, raw in (storages or {}).items():
            z.writestr(f"archive/data/{key}", raw)


def call_pickle(module: str, name: str, *args: str) -> bytes:
    """A protocol-2 pickle that, loaded by ``pickle.load``, would call ``module.name(*args)``."""
    out = b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"("
    for a in args:
        out += b"X" + len(a.encode()).to_bytes(4, "little") + a.encode()
    return out + b"tR."


def test_unpickler_refuses_code_and_runs_none(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    write_torch_zip(path, call_pickle("os", "system", f"touch {marker}"))
    with pytest.raises(UnsafePickleError, match="refusing to load os.system"):
        load_torch_file(path)
    assert not marker.exists()


@pytest.mark.parametrize("module,name", [("torch.storage", "_load_from_bytes"),
                                         ("torch.nn.modules.conv", "Conv2d"),
                                         ("builtins", "eval")])
def test_unpickler_refuses_everything_but_tensors_and_ordered_dicts(tmp_path, module, name):
    path = tmp_path / "x.pth"
    write_torch_zip(path, call_pickle(module, name, "x"))
    with pytest.raises(UnsafePickleError, match=f"{module}.{name}"):
        load_torch_file(path)


def test_convert_cli_reports_unsafe_and_legacy_files_in_one_line(tmp_path, capsys):
    evil = tmp_path / "evil.pth"
    write_torch_zip(evil, call_pickle("subprocess", "call", "true"))
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(pickle.dumps({"a": 1}))
    for path in (evil, legacy, tmp_path / "missing.pth"):
        assert convert.main([str(path), "-o", str(tmp_path / "out.keras")]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err
    assert not (tmp_path / "out.keras").exists()
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".keras")]


def test_tensor_bounds_are_checked(tmp_path):
    # An OrderedDict with one tensor whose size reaches past its 4-element storage.
    body = (b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w"
            b"ctorch._utils\n_rebuild_tensor_v2\n("
            b"(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000"
            b"X\x03\x00\x00\x00cpuK\x04tQ"
            b"K\x00K\x08\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu.")
    path = tmp_path / "oob.pth"
    write_torch_zip(path, body, {"0": np.arange(4, dtype=np.float32).tobytes()})
    with pytest.raises(TorchFileError, match="reaches element 7"):
        load_torch_file(path)
    ok = tmp_path / "ok.pth"
    write_torch_zip(ok, body.replace(b"K\x08\x85", b"K\x04\x85"),
                    {"0": np.arange(4, dtype=np.float32).tobytes()})
    sd = load_torch_file(ok)
    assert isinstance(sd, collections.OrderedDict)
    np.testing.assert_array_equal(sd["w"], [0, 1, 2, 3])
