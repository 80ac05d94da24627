"""Read a PyTorch ``.pth`` state dict with neither torch nor ``pickle.load``'s arbitrary code.

Two file formats are read, both written by ``torch.save``:

- the zip format (PyTorch >= 1.6, the default)::

      NAME/data.pkl        a pickle of the object, tensors stored as persistent references
      NAME/data/0, 1, ...  each tensor storage's raw bytes
      NAME/byteorder       "little" or "big"

- the legacy format (PyTorch 0.4 - 1.5, or ``_use_new_zipfile_serialization=False``; the
  original ESRGAN release ``RRDB_ESRGAN_x4.pth`` is one): five pickles in a row -- the magic
  number, the protocol version (1001), a ``sys_info`` dict (byte order), the object, the sorted
  list of storage keys -- then, for each key in that order, the storage's element count as an
  8-byte integer and its raw bytes (``torch/serialization.py``, ``_legacy_save``).

``pickle.load`` would import and call whatever the pickle names -- ``os.system`` included -- so a
downloaded checkpoint must never go through it. :class:`StateDictUnpickler` allows exactly what a
state dict needs:

- ``collections.OrderedDict`` (the state dict itself),
- ``torch._utils._rebuild_tensor_v2`` (a tensor: storage, offset, size, stride; torch 0.3's
  ``_rebuild_tensor`` takes the same first four) and
  ``torch._utils._rebuild_parameter`` (a parameter wrapping one),
- the typed storage names ``torch.FloatStorage``, ``torch.HalfStorage``, ... (dtypes only),

and refuses everything else -- ``torch.storage._load_from_bytes`` and ``torch.nn.Module``
included -- with :class:`UnsafePickleError`.

Memory is bounded by the file's size, whatever the file claims (issue 17.5: a 647-byte file with
a zero-stride tensor, or a 12 MB zip bomb, must not allocate gigabytes). Nothing is read or
allocated until every claim has been checked:

- a storage's declared size must fit in its zip entry, or in the bytes left in a legacy file;
- a zip entry must not claim more compressed bytes than the file has, nor expand more than
  :data:`MAX_EXPANSION` times (torch writes entries uncompressed);
- a tensor must lie inside its storage and have no more elements than it (no zero-stride
  "expanded" tensors), and all tensors together at most :data:`MAX_SHARE` times the storage
  bytes (views of one storage are copied once each).
"""

from __future__ import annotations

import collections
import io
import math
import os
import pickle
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from srgan_keras.errors import SrganKerasError

# torch's typed storage names -> numpy dtypes (bfloat16 is read as uint16 and widened)
STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32, "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16, "LongStorage": np.int64, "IntStorage": np.int32,
    "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # torch/serialization.py MAGIC_NUMBER
LEGACY_PROTOCOL = 1001  # torch/serialization.py PROTOCOL_VERSION
MAX_EXPANSION = 4  # our choice: float weights barely compress; torch itself stores entries raw
MAX_SHARE = 2  # our choice: tensors may copy their storages' bytes twice over (views, tied weights)
MAX_DIMS = 32  # our choice: weights have at most 5 dimensions; numpy allows 64
MAX_DEPTH = 16  # our choice: a checkpoint nests a state dict two or three levels deep


class TorchFileError(SrganKerasError, ValueError):
    """The file is not a readable PyTorch checkpoint."""


class UnsafePickleError(TorchFileError):
    """The pickle names something other than tensors and ordered dicts."""


class _StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to here: just the dtype they name."""

    def __init__(self, name: str):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


@dataclass
class _Storage:
    """A storage the pickle refers to; ``data`` is filled in once every claim is checked."""

    key: str
    stype: _StorageType
    numel: int
    data: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        return self.numel * self.stype.dtype.itemsize


@dataclass
class _Tensor:
    """A tensor the pickle describes (checked against its storage), copied out at the end."""

    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    @property
    def numel(self) -> int:
        return math.prod(self.size)


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, *_):
    """``torch._utils._rebuild_parameter``: a parameter is its tensor here."""
    if not isinstance(data, _Tensor):
        raise UnsafePickleError("a parameter does not wrap a tensor")
    return data


class StateDictUnpickler(pickle.Unpickler):
    """Unpickles a torch checkpoint's object, recording the storages and tensors it names.

    No storage bytes are read here: :func:`load_torch_file` checks the records, then reads.
    """

    def __init__(self, file: BinaryIO, source: str):
        super().__init__(file)
        self.source = source
        self.storages: dict[str, _Storage] = {}
        self.tensors: list[_Tensor] = []

    def find_class(self, module: str, name: str):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"),
                              ("torch._utils", "_rebuild_tensor")):  # v1: torch 0.3 files
            return self.rebuild_tensor
        if (module, name) == ("torch._utils", "_rebuild_parameter"):
            return _rebuild_parameter
        if module == "torch" and name in STORAGE_DTYPES:
            return _StorageType(name)
        raise UnsafePickleError(
            f"{self.source}: refusing to load {module}.{name}: a state dict needs only tensors "
            "and ordered dicts, and loading anything else can run code. If you trust the file, "
            "re-save its state dict with torch: torch.save({'params': sd}, 'clean.pth')")

    def persistent_load(self, pid):
        # zip: ('storage', type, key, location, numel); legacy: the same plus view_metadata
        if not (isinstance(pid, tuple) and len(pid) in (5, 6) and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and isinstance(pid[2], str)
                and type(pid[4]) is int and pid[4] >= 0):
            raise UnsafePickleError(f"{self.source}: unexpected persistent reference {pid!r:.80}")
        if len(pid) == 6 and pid[5] is not None:
            raise TorchFileError(f"{self.source}: uses storage views (a torch < 0.4 feature) "
                                 "that this reader does not support; re-save with torch")
        _, stype, key, _location, numel = pid[:5]
        storage = self.storages.setdefault(key, _Storage(key, stype, numel))
        if (storage.stype.name, storage.numel) != (stype.name, numel):
            raise TorchFileError(f"{self.source}: storage {key!r} is declared twice, as "
                                 f"{storage.numel} {storage.stype.name} and {numel} {stype.name}")
        return storage

    def rebuild_tensor(self, storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
        """``torch._utils._rebuild_tensor_v2``, as a record checked against its storage."""
        if not isinstance(storage, _Storage):
            raise UnsafePickleError(f"{self.source}: a tensor's storage is not a storage reference")
        try:
            size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
            offset = int(storage_offset)
        except (TypeError, ValueError):
            raise TorchFileError(f"{self.source}: a tensor's size, stride or offset is not a "
                                 "list of integers") from None
        if len(size) != len(stride) or len(size) > MAX_DIMS \
                or min(size + stride + (offset,), default=0) < 0:
            raise TorchFileError(f"{self.source}: bad tensor layout: size {size}, stride "
                                 f"{stride}, offset {offset}")
        tensor = _Tensor(storage, offset, size, stride)
        if tensor.numel:
            last = offset + sum((n - 1) * s for n, s in zip(size, stride))
            if last >= storage.numel:  # as_strided does not check: a crafted file could read memory
                raise TorchFileError(f"{self.source}: tensor of size {size} reaches element "
                                     f"{last} of a storage of {storage.numel}")
            if tensor.numel > storage.numel:  # only zero strides repeat elements
                raise TorchFileError(f"{self.source}: tensor of size {size} has {tensor.numel:,} "
                                     f"elements, more than its storage's {storage.numel:,} "
                                     "(zero strides); a state dict holds no expanded tensors")
        self.tensors.append(tensor)
        return tensor


class _PlainUnpickler(pickle.Unpickler):
    """For the legacy header pickles (numbers, a dict, a list of strings): no globals at all."""

    def find_class(self, module: str, name: str):
        raise UnsafePickleError(f"refusing to load {module}.{name} from a legacy file header")


def _check_tensor_budget(unpickler: StateDictUnpickler, source: str) -> None:
    storage_bytes = sum(s.nbytes for s in unpickler.storages.values())
    tensor_bytes = sum(t.numel * t.storage.stype.dtype.itemsize for t in unpickler.tensors)
    if tensor_bytes > MAX_SHARE * storage_bytes:
        raise TorchFileError(f"{source}: its tensors would copy {tensor_bytes:,} bytes out of "
                             f"{storage_bytes:,} bytes of storage (views repeated many times); "
                             "refusing to allocate that much")


def _to_array(storage: _Storage, raw: bytes, byteorder: str) -> np.ndarray:
    dtype = storage.stype.dtype
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder("<" if byteorder == "little" else ">")
    arr = np.frombuffer(raw, dtype, count=storage.numel)
    if storage.stype.name == "BFloat16Storage":  # the top half of a float32
        return (arr.astype(np.uint32) << 16).view(np.float32)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _materialize(tensor: _Tensor) -> np.ndarray:
    storage = tensor.storage.data
    if tensor.numel == 0:
        return np.zeros(tensor.size, storage.dtype)
    view = np.lib.stride_tricks.as_strided(storage[tensor.offset:], shape=tensor.size,
                                           strides=[s * storage.itemsize for s in tensor.stride])
    return np.array(view)  # a contiguous copy


def _resolve(obj, done: dict[int, np.ndarray], depth: int = 0):
    """``obj`` with every tensor record replaced by its numpy array (dicts, lists, tuples).

    ``done`` holds the arrays made so far: a record the pickle references many times (its memo)
    is copied once.
    """
    if isinstance(obj, _Tensor):
        if id(obj) not in done:
            done[id(obj)] = _materialize(obj)
        return done[id(obj)]
    if depth > MAX_DEPTH:
        raise TorchFileError(f"the checkpoint nests containers more than {MAX_DEPTH} deep")
    if isinstance(obj, dict):
        for k in list(obj):
            obj[k] = _resolve(obj[k], done, depth + 1)
        return obj
    if isinstance(obj, (list, tuple)):
        items = [_resolve(v, done, depth + 1) for v in obj]
        return items if isinstance(obj, list) else tuple(items)
    if isinstance(obj, _Storage):
        raise TorchFileError("the checkpoint holds a bare storage, not a tensor")
    return obj


def _unpickle(unpickler: pickle.Unpickler, source: str):
    try:
        return unpickler.load()
    except TorchFileError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, ValueError, KeyError,
            IndexError, RecursionError, MemoryError, struct.error) as e:
        raise TorchFileError(f"{source}: unreadable pickle ({type(e).__name__}: "
                             f"{str(e)[:120]})") from None


def _read_zip_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, nbytes: int,
                    file_size: int, source: str) -> bytes:
    """``nbytes`` of one entry, after checking the entry's claims against the file itself."""
    if info.compress_size > file_size or (
            info.compress_type != zipfile.ZIP_STORED
            and info.file_size > MAX_EXPANSION * info.compress_size + 4096):
        raise TorchFileError(f"{source}: entry {info.filename} claims {info.file_size:,} bytes "
                             f"from {info.compress_size:,} compressed in a file of "
                             f"{file_size:,} (a zip bomb?); torch writes entries uncompressed")
    if info.file_size < nbytes:
        raise TorchFileError(f"{source}: entry {info.filename} has {info.file_size:,} bytes, "
                             f"fewer than the {nbytes:,} its storage declares (truncated?)")
    try:
        with archive.open(info) as f:
            raw = f.read(nbytes)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as e:
        raise TorchFileError(f"{source}: entry {info.filename} is unreadable ({e})") from None
    if len(raw) != nbytes:
        raise TorchFileError(f"{source}: entry {info.filename} is truncated")
    return raw


def _load_zip(path: Path, source: str):
    file_size = path.stat().st_size
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise TorchFileError(f"{source}: not a readable zip file ({e})") from None
    with archive:
        infos = {i.filename: i for i in archive.infolist()}
        pickles = [n for n in infos if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pickles and "config.json" in infos and "metadata.json" in infos:
            raise TorchFileError(f"{source}: a Keras model file (.keras), not a PyTorch "
                                 "checkpoint; it needs no converting (pass it to --model)")
        if len(pickles) != 1:
            raise TorchFileError(f"{source}: expected one NAME/data.pkl in the archive, "
                                 f"found {len(pickles)}")
        prefix = pickles[0][: -len("data.pkl")]
        pkl = infos[pickles[0]]
        data = _read_zip_entry(archive, pkl, pkl.file_size, file_size, source)
        byteorder = "little"
        if prefix + "byteorder" in infos:
            order = infos[prefix + "byteorder"]
            byteorder = _read_zip_entry(archive, order, min(order.file_size, 16), file_size,
                                        source).decode(errors="replace").strip()
            if byteorder not in ("little", "big"):
                raise TorchFileError(f"{source}: byteorder {byteorder[:16]!r} is neither "
                                     "little nor big")
        unpickler = StateDictUnpickler(io.BytesIO(data), source)
        obj = _unpickle(unpickler, source)
        entries = {}
        for key, storage in unpickler.storages.items():
            name = f"{prefix}data/{key}"
            if name not in infos:
                raise TorchFileError(f"{source}: storage {key!r} is missing")
            entries[key] = infos[name]
            if entries[key].file_size < storage.nbytes:
                raise TorchFileError(f"{source}: storage {key!r} is truncated: "
                                     f"{entries[key].file_size:,} bytes for {storage.nbytes:,}")
        _check_tensor_budget(unpickler, source)
        for key, storage in unpickler.storages.items():
            raw = _read_zip_entry(archive, entries[key], storage.nbytes, file_size, source)
            storage.data = _to_array(storage, raw, byteorder)
    return obj


def _load_legacy(path: Path, source: str):
    file_size = path.stat().st_size
    with open(path, "rb") as f:
        magic = _unpickle(_PlainUnpickler(f), source)
        if magic != LEGACY_MAGIC:
            raise TorchFileError(f"{source}: neither a zip-format nor a legacy PyTorch file")
        if _unpickle(_PlainUnpickler(f), source) != LEGACY_PROTOCOL:
            raise TorchFileError(f"{source}: legacy PyTorch file of an unknown protocol version")
        sys_info = _unpickle(_PlainUnpickler(f), source)
        byteorder = "big" if isinstance(sys_info, dict) and sys_info.get("little_endian") is False \
            else "little"
        unpickler = StateDictUnpickler(f, source)
        obj = _unpickle(unpickler, source)
        keys = _unpickle(_PlainUnpickler(f), source)
        if not (isinstance(keys, list) and set(keys) == set(unpickler.storages)
                and len(keys) == len(unpickler.storages)):
            raise TorchFileError(f"{source}: the storage list does not match the tensors")
        declared = sum(8 + unpickler.storages[k].nbytes for k in keys)
        if declared > file_size - f.tell():
            raise TorchFileError(f"{source}: its storages declare {declared:,} bytes but only "
                                 f"{file_size - f.tell():,} follow (truncated?)")
        _check_tensor_budget(unpickler, source)
        fmt = "<q" if byteorder == "little" else ">q"
        for key in keys:
            storage = unpickler.storages[key]
            head = f.read(8)
            if len(head) != 8 or struct.unpack(fmt, head)[0] != storage.numel:
                raise TorchFileError(f"{source}: storage {key!r} has a size header that "
                                     "disagrees with the pickle")
            raw = f.read(storage.nbytes)
            if len(raw) != storage.nbytes:
                raise TorchFileError(f"{source}: storage {key!r} is truncated")
            storage.data = _to_array(storage, raw, byteorder)
    return obj


def load_torch_file(path: str | os.PathLike):
    """The object a ``torch.save`` file (zip or legacy) holds, tensors as numpy arrays. Runs no
    code; allocates no more than a small multiple of the file's size."""
    path = Path(path)
    if not path.is_file():
        raise TorchFileError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        obj = _load_zip(path, str(path))
    else:
        with open(path, "rb") as f:
            head = f.read(2)
        if head[:1] != b"\x80":  # every legacy file starts with a protocol-2+ pickle
            raise TorchFileError(f"{path}: not a PyTorch file (neither the zip format nor the "
                                 "legacy pickle format of torch.save)")
        obj = _load_legacy(path, str(path))
    try:
        return _resolve(obj, {})
    except TorchFileError as e:
        raise TorchFileError(f"{path}: {e}") from None


def load_state_dict(path: str | os.PathLike, key: str | None = None) -> dict[str, np.ndarray]:
    """A flat ``{name: array}`` state dict from ``path``.

    BasicSR checkpoints wrap it as ``{'params_ema': sd}`` and/or ``{'params': sd}``: ``key``
    picks one, else ``params_ema`` (the weights' exponential moving average, what BasicSR
    publishes and tests) is preferred over ``params``; a bare state dict is used as is.
    """
    obj = load_torch_file(path)
    if not isinstance(obj, dict):
        raise TorchFileError(f"{path}: holds a {type(obj).__name__}, not a state dict")
    where = "the file"
    if key is not None:
        if key not in obj:
            raise TorchFileError(f"{path}: no key {key!r}; it has "
                                 f"{', '.join(map(repr, list(obj)[:8]))}")
        obj, where = obj[key], f"entry {key!r}"
    else:
        for k in ("params_ema", "params"):
            if k in obj:
                obj, where = obj[k], f"entry {k!r}"
                break
    if not isinstance(obj, dict):
        what = "tensor" if isinstance(obj, np.ndarray) else type(obj).__name__
        raise TorchFileError(f"{path}: {where} holds a {what}, not a state dict of named "
                             "tensors")
    bad_key = next((k for k in obj if not isinstance(k, str)), None)
    if bad_key is not None:
        raise TorchFileError(f"{path}: {where} has the key {bad_key!r:.40}, not a layer name; "
                             "a state dict maps names like 'conv_first.weight' to tensors")
    bad = [k for k, v in obj.items() if not isinstance(v, np.ndarray)]
    if bad or not obj:
        raise TorchFileError(f"{path}: {where} is not a state dict of tensors "
                             f"({f'e.g. {bad[0]!r}' if bad else 'it is empty'}); "
                             "pass --key to pick the entry that holds the weights")
    return dict(obj)
