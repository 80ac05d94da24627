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

from srgan_keras.export import convert
from srgan_keras.export.torch_pickle import (
    TorchFileError,
    UnsafePickleError,
    load_state_dict,
    load_torch_file,
)

# Tiny, as the issue asks: 2 RRDBs, 16 features, growth 8.
NUM_FEAT, NUM_BLOCK, NUM_GROW = 16, 2, 8


def torch_rrdbnet(scale: int):
    """BasicSR's RRDBNet (basicsr/archs/rrdbnet_arch.py), written out with the same key names."""
    torch = pytest.importorskip("torch")
    nn, F = torch.nn, torch.nn.functional

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
            self.rdb1, self.rdb2, self.rdb3 = RDB(nf, gc), RDB(nf, gc), RDB(nf, gc)

        def forward(self, x):
            return self.rdb3(self.rdb2(self.rdb1(x))) * 0.2 + x

    class RRDBNet(nn.Module):
        def __init__(self):
            super().__init__()
            in_ch = {4: 3, 2: 12, 1: 48}[scale]
            self.conv_first = nn.Conv2d(in_ch, NUM_FEAT, 3, 1, 1)
            self.body = nn.Sequential(*[RRDB(NUM_FEAT, NUM_GROW) for _ in range(NUM_BLOCK)])
            self.conv_body = nn.Conv2d(NUM_FEAT, NUM_FEAT, 3, 1, 1)
            self.conv_up1 = nn.Conv2d(NUM_FEAT, NUM_FEAT, 3, 1, 1)
            self.conv_up2 = nn.Conv2d(NUM_FEAT, NUM_FEAT, 3, 1, 1)
            self.conv_hr = nn.Conv2d(NUM_FEAT, NUM_FEAT, 3, 1, 1)
            self.conv_last = nn.Conv2d(NUM_FEAT, 3, 3, 1, 1)

        def forward(self, x):
            if scale < 4:
                x = F.pixel_unshuffle(x, 4 // scale)
            feat = self.conv_first(x)
            feat = feat + self.conv_body(self.body(feat))
            lrelu = lambda t: F.leaky_relu(t, 0.2)  # noqa: E731
            feat = lrelu(self.conv_up1(F.interpolate(feat, scale_factor=2, mode="nearest")))
            feat = lrelu(self.conv_up2(F.interpolate(feat, scale_factor=2, mode="nearest")))
            return self.conv_last(lrelu(self.conv_hr(feat)))

    torch.manual_seed(scale)
    net = RRDBNet().eval()
    with torch.no_grad():  # larger weights than PyTorch's init, so every path matters
        for p in net.parameters():
            p.mul_(3.0)
    return net


def torch_upscale(net, lr: np.ndarray, scale: int) -> np.ndarray:
    """Real-ESRGAN's inference (RealESRGANer): reflect-pad to a multiple, run, crop. NHWC."""
    torch = pytest.importorskip("torch")
    x = torch.from_numpy(lr).permute(0, 3, 1, 2)
    h, w = x.shape[2:]
    r = 4 // scale
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
    model = convert.convert_state_dict(load_state_dict(path))
    assert model.count_params() == sum(p.numel() for p in net.parameters())

    lr = np.random.default_rng(scale).random((2, *size, 3), dtype=np.float32)
    ref = torch_upscale(net, lr, scale)
    ours = np.asarray(model(lr, training=False))
    assert ours.shape == (2, size[0] * scale, size[1] * scale, 3)
    assert ref.std() > 0.1  # the comparison is not of two near-constant images
    assert np.abs(ours - ref).max() < 1e-4


def test_convert_cli_writes_a_loadable_model(tmp_path):
    torch = pytest.importorskip("torch")
    import keras

    import srgan_keras  # noqa: F401  (registers the custom layers)
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
    np.testing.assert_array_equal(tf_order, torch_order[..., convert.unshuffle_permutation(2)])


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
        assert convert.main([str(path), "-o", str(tmp_path / "out.keras")]) == 1
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


def test_not_an_rrdbnet_is_named(tmp_path):
    with pytest.raises(convert.ConversionError, match="not a BasicSR RRDBNet"):
        convert.convert_state_dict({"body.0.weight": np.zeros((4, 3, 3, 3), np.float32)})
