"""Read a PyTorch ``.pth`` state dict with neither torch nor ``pickle.load``'s arbitrary code.

A ``torch.save`` file (PyTorch >= 1.6) is a zip archive::

    NAME/data.pkl        a pickle of the object, tensors stored as persistent references
    NAME/data/0, 1, ...  each tensor storage's raw bytes
    NAME/byteorder       "little" or "big"

``pickle.load`` would import and call whatever the pickle names -- ``os.system`` included -- so a
downloaded checkpoint must never go through it. :class:`StateDictUnpickler` allows exactly what a
state dict needs:

- ``collections.OrderedDict`` (the state dict itself),
- ``torch._utils._rebuild_tensor_v2`` (a tensor: storage, offset, size, stride),
- the typed storage names ``torch.FloatStorage``, ``torch.HalfStorage``, ... (dtypes only),

and refuses everything else -- ``torch.storage._load_from_bytes`` and ``torch.nn.Module``
included -- with :class:`UnsafePickleError`. Tensors come back as numpy arrays, bounds-checked
against their storage.
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

# torch's typed storage names -> numpy dtypes (bfloat16 is read as uint16 and widened)
STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class TorchFileError(ValueError):
    """The file is not a readable PyTorch zip checkpoint."""


class UnsafePickleError(TorchFileError):
    """The pickle names something other than tensors and ordered dicts."""


class _StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to here: just the dtype they name."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    """numpy version of ``torch._utils._rebuild_tensor_v2``: a strided view, checked, copied."""
    if not isinstance(storage, np.ndarray):
        raise UnsafePickleError("a tensor's storage is not a storage reference")
    size, stride, offset = tuple(int(s) for s in size), tuple(int(s) for s in stride), \
        int(storage_offset)
    if len(size) != len(stride) or min(size + stride + (offset,), default=0) < 0:
        raise TorchFileError(f"bad tensor layout: size {size}, stride {stride}, offset {offset}")
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.size:  # as_strided does not check bounds: a crafted file could read memory
        raise TorchFileError(f"tensor of size {size} reaches element {last} of a storage of "
                             f"{storage.size}")
    view = np.lib.stride_tricks.as_strided(storage[offset:], shape=size,
                                           strides=[s * storage.itemsize for s in stride])
    return np.array(view)  # a contiguous copy


class StateDictUnpickler(pickle.Unpickler):
    """Unpickles ``data.pkl`` of a torch zip file, resolving storages from the archive."""

    ALLOWED = {("collections", "OrderedDict"): collections.OrderedDict,
               ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2}

    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str, byteorder: str,
                 source: str):
        super().__init__(io.BytesIO(data))
        self.archive, self.prefix, self.source = archive, prefix, source
        self.order = "<" if byteorder == "little" else ">"
        self.storages: dict[str, np.ndarray] = {}

    def find_class(self, module: str, name: str):
        if (module, name) in self.ALLOWED:
            return self.ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafePickleError(
            f"{self.source}: refusing to load {module}.{name}: a state dict needs only tensors "
            "and ordered dicts, and loading anything else can run code. If you trust the file, "
            "re-save its state dict with torch: torch.save({'params': sd}, 'clean.pth')")

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, number of elements)
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise UnsafePickleError(f"{self.source}: unexpected persistent reference {pid!r:.80}")
        _, stype, key, _location, numel = pid
        if key not in self.storages:
            try:
                raw = self.archive.read(f"{self.prefix}data/{key}")
            except KeyError:
                raise TorchFileError(f"{self.source}: storage {key!r} is missing") from None
            dtype = stype.dtype.newbyteorder(self.order) if stype.dtype.itemsize > 1 else stype.dtype
            if len(raw) < int(numel) * dtype.itemsize:
                raise TorchFileError(f"{self.source}: storage {key!r} is truncated")
            arr = np.frombuffer(raw, dtype, count=int(numel))
            if stype.name == "BFloat16Storage":  # the top half of a float32
                arr = (arr.astype(np.uint32) << 16).view(np.float32)
            self.storages[key] = arr.astype(arr.dtype.newbyteorder("="))
        return self.storages[key]


def load_torch_file(path: str | Path):
    """The object a ``torch.save`` zip file holds, with tensors as numpy arrays. Runs no code."""
    path = Path(path)
    if not path.is_file():
        raise TorchFileError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise TorchFileError(f"{path}: not a zip-format PyTorch file (torch >= 1.6). Older "
                             "'legacy' files are not supported: re-save with a recent torch")
    with zipfile.ZipFile(path) as archive:
        pickles = [n for n in archive.namelist() if n.endswith("data.pkl")
                   and n.count("/") == 1]
        if len(pickles) != 1:
            raise TorchFileError(f"{path}: expected one NAME/data.pkl in the archive, "
                                 f"found {len(pickles)}")
        prefix = pickles[0][: -len("data.pkl")]
        names = set(archive.namelist())
        byteorder = archive.read(prefix + "byteorder").decode().strip() \
            if prefix + "byteorder" in names else "little"
        unpickler = StateDictUnpickler(archive.read(pickles[0]), archive, prefix, byteorder,
                                       str(path))
        try:
            return unpickler.load()
        except (pickle.UnpicklingError, EOFError, TypeError, AttributeError) as e:
            raise TorchFileError(f"{path}: unreadable pickle ({type(e).__name__}: {e})") from None


def load_state_dict(path: str | Path, key: str | None = None) -> dict[str, np.ndarray]:
    """A flat ``{name: array}`` state dict from ``path``.

    BasicSR checkpoints wrap it as ``{'params_ema': sd}`` and/or ``{'params': sd}``: ``key``
    picks one, else ``params_ema`` (the weights' exponential moving average, what BasicSR
    publishes and tests) is preferred over ``params``; a bare state dict is used as is.
    """
    obj = load_torch_file(path)
    if not isinstance(obj, dict):
        raise TorchFileError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    if key is not None:
        if key not in obj:
            raise TorchFileError(f"{path}: no key {key!r}; it has {', '.join(map(str, obj))}")
        obj = obj[key]
    else:
        for k in ("params_ema", "params"):
            if k in obj:
                obj = obj[k]
                break
    bad = [k for k, v in obj.items() if not isinstance(v, np.ndarray)]
    if bad:
        raise TorchFileError(f"{path}: not a state dict of tensors (e.g. {bad[0]!r}); "
                             "pass --key to pick the entry that holds the weights")
    return dict(obj)
