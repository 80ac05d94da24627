"""Hostile .pth files (issue 17.5, 17.9), made here by hand, without torch.

Memory: every file is read in its own small process (numpy only, no TensorFlow) whose peak
resident size (``resource.getrusage``) is compared with reading a small valid file; an address
space limit makes a reader that tries to allocate gigabytes fail fast instead of swapping.
"""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from srgan_keras.data import torch_pickle
from srgan_keras.data.torch_pickle import LEGACY_MAGIC, LEGACY_PROTOCOL
from srgan_keras.export import convert

MARGIN_MIB = 200  # issue 17.5: within ~200 MiB of converting a small valid file
ADDRESS_LIMIT = 3 << 30  # the child's address space: a reader that tries 4+ GiB fails at once


# ---------------------------------------------------------------------------------------------
# A tiny pickle writer (protocol 2 opcodes) for the state dicts torch.save writes
def _int(n: int) -> bytes:
    raw = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "little", signed=True)
    return b"\x8a" + bytes([len(raw)]) + raw  # LONG1


def _str(s: str) -> bytes:
    b = s.encode()
    return b"X" + len(b).to_bytes(4, "little") + b  # BINUNICODE


def _tuple(items) -> bytes:
    return b"(" + b"".join(items) + b"t"  # MARK ... TUPLE


ORDERED_DICT = b"ccollections\nOrderedDict\n)R"  # OrderedDict()


def tensor(key: str, numel: int, size, stride, offset: int = 0, legacy: bool = False) -> bytes:
    """``torch._utils._rebuild_tensor_v2`` of a float32 storage; the legacy format's persistent
    id has a sixth field, the storage view (None)."""
    pid = _tuple([_str("storage"), b"ctorch\nFloatStorage\n", _str(key), _str("cpu"),
                  _int(numel)] + ([b"N"] if legacy else [])) + b"Q"  # BINPERSID
    args = _tuple([pid, _int(offset), _tuple(map(_int, size)), _tuple(map(_int, stride)),
                   b"\x89", ORDERED_DICT])  # requires_grad False, no hooks
    return b"ctorch._utils\n_rebuild_tensor_v2\n" + args + b"R"


def state_dict(items) -> bytes:
    """An OrderedDict of ``(key pickle, value pickle)`` pairs, as a complete pickle."""
    return b"\x80\x02" + ORDERED_DICT + b"(" + b"".join(k + v for k, v in items) + b"u."


def write_zip(path, pickled: bytes, storages: dict[str, bytes], deflate: bool = False):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pickled)
        z.writestr("archive/byteorder", "little")
        for key, raw in storages.items():
            z.writestr(f"archive/data/{key}", raw,
                       zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED)


def write_legacy(path, pickled: bytes, storages: dict[str, tuple[int, bytes]]):
    """The legacy layout: magic, protocol, sys_info, object, keys, then (numel, bytes) each."""
    with open(path, "wb") as f:
        f.write(pickle.dumps(LEGACY_MAGIC, protocol=2))
        f.write(pickle.dumps(LEGACY_PROTOCOL, protocol=2))
        f.write(pickle.dumps({"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
                              "type_sizes": {"short": 2, "int": 4, "long": 4}}, protocol=2))
        f.write(pickled)
        f.write(pickle.dumps(sorted(storages), protocol=2))
        for key in sorted(storages):
            numel, raw = storages[key]
            f.write(np.int64(numel).tobytes() + raw)


def small_valid(path):
    write_zip(path, state_dict([(_str("w"), tensor("0", 16, (4, 4), (4, 1)))]),
              {"0": np.arange(16, dtype=np.float32).tobytes()})


# ---------------------------------------------------------------------------------------------
# The hostile files of issue 17.5
def zero_stride(path):
    """647 bytes that ask for 16 GiB: one float repeated 65536 x 65536 times (strides 0, 0)."""
    write_zip(path, state_dict([(_str("w"), tensor("0", 1, (65536, 65536), (0, 0)))]),
              {"0": np.float32(1).tobytes()})


def zero_stride_large(path):
    """A zero stride over a real 4 MiB storage: 2^40 elements, 4 TiB as float32."""
    write_zip(path, state_dict([(_str("w"), tensor("0", 1 << 20, (1 << 20, 1 << 20), (0, 1)))]),
              {"0": bytes(4 << 20)})


def zip_bomb(path):
    """A 256 MiB storage deflated to a quarter of a MiB (the issue's bomb was 12 GiB in 12 MB)."""
    numel = 64 << 20
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", state_dict([(_str("w"), tensor("0", numel, (numel,),
                                                                       (1,)))]))
        z.writestr("archive/byteorder", "little")
        info = zipfile.ZipInfo("archive/data/0")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            chunk = bytes(1 << 20)
            for _ in range(numel * 4 >> 20):
                f.write(chunk)


def pickle_bomb(path):
    """The pickle entry itself deflated from 256 MiB (a valid pickle, then zeros after STOP)."""
    with zipfile.ZipFile(path, "w") as z:
        info = zipfile.ZipInfo("archive/data.pkl")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            f.write(state_dict([(_str("w"), tensor("0", 4, (4,), (1,)))]))
            chunk = bytes(1 << 20)
            for _ in range(256):
                f.write(chunk)
        z.writestr("archive/data/0", bytes(16))


def many_views(path):
    """One 8 MiB storage viewed whole by 300 differently named tensors (2.4 GB of copies)."""
    numel = 2 << 20
    items = [(_str(f"w{i}"), tensor("0", numel, (numel,), (1,))) for i in range(300)]
    write_zip(path, state_dict(items), {"0": bytes(4 * numel)})


def huge_storage_claim(path):
    """A storage that claims 10^12 elements in a zip entry of 16 bytes."""
    write_zip(path, state_dict([(_str("w"), tensor("0", 10**12, (4,), (1,)))]),
              {"0": bytes(16)})


def legacy_huge_claim(path):
    """The legacy format, whose storage claims 10^11 elements; 16 bytes follow."""
    write_legacy(path, state_dict([(_str("w"), tensor("k", 10**11, (4,), (1,), legacy=True))]),
                 {"k": (10**11, bytes(16))})


HOSTILE = {f.__name__: f for f in (zero_stride, zero_stride_large, zip_bomb, pickle_bomb,
                                   many_views, huge_storage_claim, legacy_huge_claim)}

CHILD = """
import json, resource, sys, importlib.util
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
spec = importlib.util.spec_from_file_location("torch_pickle", {module!r})
tp = sys.modules["torch_pickle"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tp)  # this module alone: numpy, no TensorFlow
try:
    sd = tp.load_state_dict(sys.argv[1])
    error = None
except tp.TorchFileError as e:
    error = str(e)
print(json.dumps({{"error": error,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


# Linux carries a process's peak RSS across exec (the memory it was forked with counts), so a
# child started from this TensorFlow-sized process would report this process's size. The reader
# is started by a small launcher instead: a fresh fork of a small process starts from its size.
LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def read_in_child(path) -> dict:
    """``load_state_dict(path)`` in a fresh process: its error (or None) and peak RSS in MiB."""
    script = CHILD.format(limit=ADDRESS_LIMIT, module=torch_pickle.__file__)
    proc = subprocess.run([sys.executable, "-c", LAUNCHER, sys.executable, "-c", script,
                           str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]  # a MemoryError traceback fails here
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline_mib(tmp_path_factory) -> float:
    path = tmp_path_factory.mktemp("valid") / "valid.pth"
    small_valid(path)
    result = read_in_child(path)
    assert result["error"] is None
    return result["peak_mib"]


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_files_are_refused_within_bounded_memory(tmp_path, baseline_mib, kind):
    path = tmp_path / f"{kind}.pth"
    HOSTILE[kind](path)
    result = read_in_child(path)
    assert result["error"] and "\n" not in result["error"], result
    assert result["peak_mib"] < baseline_mib + MARGIN_MIB, (kind, result, baseline_mib)


def test_a_tensor_referenced_many_times_is_copied_once(tmp_path, baseline_mib):
    """Tied weights: the pickle's memo names one 8 MiB tensor under 500 keys (4 GB if copied
    per key): the state dict loads, every key the same array, in bounded memory."""
    numel = 2 << 20
    first = tensor("0", numel, (numel,), (1,)) + b"r" + (0).to_bytes(4, "little")  # LONG_BINPUT
    memo = b"j" + (0).to_bytes(4, "little")  # LONG_BINGET
    items = [(_str("w0"), first)] + [(_str(f"w{i}"), memo) for i in range(1, 500)]
    path = tmp_path / "tied.pth"
    write_zip(path, state_dict(items), {"0": np.ones(numel, np.float32).tobytes()})
    result = read_in_child(path)
    assert result["error"] is None, result
    assert result["peak_mib"] < baseline_mib + MARGIN_MIB, result
    sd = torch_pickle.load_state_dict(path)
    assert len(sd) == 500 and sd["w499"] is sd["w0"] and sd["w0"].sum() == numel


def test_valid_files_in_both_formats_still_load(tmp_path):
    def pickled(legacy):
        return state_dict([(_str("a"), tensor("0", 6, (2, 3), (1, 2), legacy=legacy)),  # a.T
                           (_str("b"), tensor("0", 6, (2,), (1,), offset=4, legacy=legacy))])

    raw = np.arange(6, dtype=np.float32).tobytes()
    write_zip(tmp_path / "z.pth", pickled(False), {"0": raw}, deflate=True)
    write_legacy(tmp_path / "l.pth", pickled(True), {"0": (6, raw)})
    for name in ("z.pth", "l.pth"):
        sd = torch_pickle.load_state_dict(tmp_path / name)
        np.testing.assert_array_equal(sd["a"], np.arange(6).reshape(3, 2).T)
        np.testing.assert_array_equal(sd["b"], [4, 5])


def test_legacy_size_header_must_agree_with_the_pickle(tmp_path):
    pickled = state_dict([(_str("w"), tensor("k", 4, (4,), (1,), legacy=True))])
    write_legacy(tmp_path / "l.pth", pickled, {"k": (3, bytes(16))})
    with pytest.raises(torch_pickle.TorchFileError, match="size header that disagrees"):
        torch_pickle.load_state_dict(tmp_path / "l.pth")


# ---------------------------------------------------------------------------------------------
# Issue 17.9: odd but harmless contents are one line and exit 2 from the CLI
@pytest.mark.parametrize("pickled,says", [
    (b"\x80\x02}(K\x00" + tensor("0", 4, (4,), (1,)) + b"u.", "has the key 0, not a layer name"),
    (b"\x80\x02}(" + _str("params") + tensor("0", 4, (4,), (1,)) + b"u.",
     "entry 'params' holds a tensor, not a state dict"),
    (b"\x80\x02]" + b".", "holds a list, not a state dict"),
], ids=["integer-keys", "params-is-a-tensor", "a-list"])
def test_odd_contents_are_one_line_and_exit_2(tmp_path, capsys, pickled, says):
    path = tmp_path / "odd.pth"
    write_zip(path, pickled, {"0": bytes(16)})
    assert convert.main([str(path), "-o", str(tmp_path / "out.keras")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and says in err, err
    assert not list(tmp_path.glob("*.keras"))
