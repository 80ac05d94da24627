"""The model zoo: Real-ESRGAN's and ESRGAN's published weights, one ``--model NAME`` away.

    python -m srgan_keras.upscale photo.jpg --model RealESRGAN_x4plus
    python -m srgan_keras.upscale --list-models

A zoo name (:data:`ENTRIES`; case does not matter, the file name ``NAME.pth`` works too) is
resolved by :func:`srgan_keras.inference.resolve.resolve_model_path` in every command that takes
``--model`` (upscale, evaluate, export, model_card, the web page). On first use the ``.pth`` is

1. downloaded from its published URL into the user cache, streamed into a temporary file of ours
   in the cache folder, hashed on the way, and renamed into place only if its SHA-256 is the
   published one (:func:`srgan_keras.data.files.atomic_write`): a wrong file is refused in one
   line and nothing is cached; no more bytes than the published size are read;
2. converted once, through the safe reader (:mod:`srgan_keras.data.torch_pickle`: no torch, no
   code from the file run) and :mod:`srgan_keras.export.convert`, into ``NAME.keras`` beside it
   (atomic too); later calls use that ``.keras`` and make no request.

A model with a weak-denoise twin (``realesr-general-x4v3``) fetches the twin too, so
``--denoise-strength`` blends the two as it does the bundled ``realesr`` and its ``_wdn`` file
(the cached names are the official ones, which :func:`~srgan_keras.nn.interpolation.wdn_candidates`
pairs). Offline, the error is one sentence naming the URL and the exact path to put the file at.

Where (our choice; pip's and torch hub's habit): ``$SRGAN_KERAS_HOME/models``, else
``$XDG_CACHE_HOME/srgan_keras/models``, else ``~/.cache/srgan_keras/models``.
``$SRGAN_KERAS_ZOO_URL`` replaces every entry's download folder (``BASE/FILE``): a mirror, or the
tests' server on 127.0.0.1. Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from srgan_keras.data.download import DownloadError, TooLargeError, download, sha256_of
from srgan_keras.inference.converted import HOME_ENV, cache_dir, cache_write, convert_into
from srgan_keras.inference.errors import ModelNotFoundError

URL_ENV = "SRGAN_KERAS_ZOO_URL"

_REALESRGAN = "https://github.com/xinntao/Real-ESRGAN/releases/download"
_OPENMODELDB = "https://github.com/OpenModelDB/open-model-database/blob/main/data/models"


@dataclass(frozen=True)
class ZooEntry:
    """One published weight file: where it is, what it must hash to, what it holds."""

    name: str  # the --model name: the official file stem
    url: str
    sha256: str  # of the whole .pth, lowercase hex
    size: int  # bytes, as published; a download is cut off beyond it
    arch: str  # what convert.py builds from it
    scale: int
    licence: str
    source: str  # where url, sha256 and size were read
    twin: str | None = None  # the weak-denoise twin's name (--denoise-strength)
    aliases: tuple[str, ...] = ()

    @property
    def file(self) -> str:
        return self.url.rsplit("/", 1)[-1]


# URL, SHA-256, size and licence of each entry are those of its OpenModelDB record (the `source`
# field: the community's model database, which lists the authors' release URL and the file's
# hash). Real-ESRGAN's release pages publish no hashes. The Real-ESRGAN hashes agree with Arch
# Linux's AUR package python-realesrgan (PKGBUILD sha256sums: x4plus, anime_6B, x2plus) and with
# TensoRaws/ccrestoration's model zoo (ccrestoration/config/realesrgan_config.py: x4plus,
# anime_6B, x2plus, animevideov3). Licences: Real-ESRGAN's repository (code and weights) is
# BSD-3-Clause, ESRGAN's Apache-2.0.
ENTRIES: tuple[ZooEntry, ...] = (
    ZooEntry("realesr-general-x4v3", f"{_REALESRGAN}/v0.2.5.0/realesr-general-x4v3.pth",
             "8dc7edb9ac80ccdc30c3a5dca6616509367f05fbc184ad95b731f05bece96292", 4885111,
             "SRVGGNetCompact, 32 convs", 4, "BSD-3-Clause",
             f"{_OPENMODELDB}/4x-realesr-general-x4v3.json", twin="realesr-general-wdn-x4v3"),
    ZooEntry("realesr-general-wdn-x4v3", f"{_REALESRGAN}/v0.2.5.0/realesr-general-wdn-x4v3.pth",
             "1641f8c4464b9f097c9fdda5589273713f67cf59f3d909e0bd688f0cee269dca", 4885111,
             "SRVGGNetCompact, 32 convs (weak-denoise twin)", 4, "BSD-3-Clause",
             f"{_OPENMODELDB}/4x-realesr-general-wdn-x4v3.json"),
    ZooEntry("RealESRGAN_x4plus", f"{_REALESRGAN}/v0.1.0/RealESRGAN_x4plus.pth",
             "4fa0d38905f75ac06eb49a7951b426670021be3018265fd191d2125df9d682f1", 67040989,
             "RRDBNet, 23 blocks", 4, "BSD-3-Clause", f"{_OPENMODELDB}/4x-realesrgan-x4plus.json"),
    ZooEntry("RealESRGAN_x2plus", f"{_REALESRGAN}/v0.2.1/RealESRGAN_x2plus.pth",
             "49fafd45f8fd7aa8d31ab2a22d14d91b536c34494a5cfe31eb5d89c2fa266abb", 67061725,
             "RRDBNet, 23 blocks, pixel-unshuffled input", 2, "BSD-3-Clause",
             f"{_OPENMODELDB}/2x-realesrgan-x2plus.json"),
    ZooEntry("RealESRGAN_x4plus_anime_6B", f"{_REALESRGAN}/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth",
             "f872d837d3c90ed2e05227bed711af5671a6fd1c9f7d7e91c911a61f155e99da", 17938799,
             "RRDBNet, 6 blocks", 4, "BSD-3-Clause",
             f"{_OPENMODELDB}/4x-realesrgan-x4plus-anime-6b.json"),
    ZooEntry("realesr-animevideov3", f"{_REALESRGAN}/v0.2.5.0/realesr-animevideov3.pth",
             "b8a8376811077954d82ca3fcf476f1ac3da3e8a68a4f4d71363008000a18b75d", 2504012,
             "SRVGGNetCompact, 16 convs", 4, "BSD-3-Clause",
             f"{_OPENMODELDB}/4x-realesr-animevideo-v3.json"),
    # ESRGAN's own RRDB_ESRGAN_x4.pth (the paper's model; original key names, legacy torch
    # format) is published on Google Drive and Baidu only, which no script can fetch; this is
    # OpenModelDB's copy of it, with the hash OpenModelDB publishes. BasicSR's re-saved
    # ESRGAN_SRx4_DF2KOST_official-ff704c30.pth (on Real-ESRGAN's v0.1.1 release) is left out:
    # its name carries only the first 8 hex digits of its SHA-256, and no full hash is published.
    ZooEntry("ESRGAN_x4", "https://objectstorage.us-phoenix-1.oraclecloud.com/n/ax6ygfvpvzka/b/"
             "open-modeldb-files/o/models%2F4x-ESRGAN.pth",
             "545805ce2d861ee90972b5fa50b851f19ee4bb35dedd2eb090be1f7c935b6b00", 66952991,
             "RRDBNet, 23 blocks (original ESRGAN)", 4, "Apache-2.0",
             f"{_OPENMODELDB}/4x-ESRGAN.json", aliases=("RRDB_ESRGAN_x4", "esrgan")),
)


class ZooError(ModelNotFoundError):
    """A zoo model that cannot be had (offline, wrong checksum, a bad file): one sentence.

    A :class:`~srgan_keras.inference.runners.ModelNotFoundError`, so every command that loads a
    model already prints it in one line and exits 2.
    """


def names() -> list[str]:
    """Every zoo name, in table order."""
    return [e.name for e in ENTRIES]


def lookup(name: str | os.PathLike | None) -> ZooEntry | None:
    """The entry ``name`` calls (its name, an alias or its file name, any case); else None."""
    if name is None:
        return None
    key = str(name).lower()
    for e in ENTRIES:
        if key in {n.lower() for n in (e.name, e.file, *e.aliases)}:
            return e
    return None


def closest(name: str, others: list[str]) -> str | None:
    """The name nearest to a mistyped ``name`` among the zoo names and ``others`` (difflib)."""
    pool = {n.lower(): n for n in [*others, *names()]}
    close = difflib.get_close_matches(name.lower(), list(pool), n=1, cutoff=0.5)
    return pool[close[0]] if close else None


def url_of(entry: ZooEntry) -> str:
    base = os.environ.get(URL_ENV)
    return f"{base.rstrip('/')}/{entry.file}" if base else entry.url


def pth_path(entry: ZooEntry) -> Path:
    return cache_dir() / entry.file


def keras_path(entry: ZooEntry) -> Path:
    return cache_dir() / f"{entry.name}.keras"


def is_cached(entry: ZooEntry) -> bool:
    return keras_path(entry).is_file()


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fetch(entry: ZooEntry, url: str, tmp: str) -> None:
    """Stream ``url`` into ``tmp`` (:func:`srgan_keras.data.download.download`); raise ZooError on
    a network failure, more bytes than published or the wrong SHA-256 (atomic_write then removes
    ``tmp``)."""
    try:
        got, digest = download(url, tmp, limit=entry.size, desc=entry.file)
    except TooLargeError:
        raise ZooError(f"{url}: more than the published {entry.size:,} bytes of "
                       f"{entry.name}; refused, nothing cached") from None
    except DownloadError as e:
        raise _offline(entry, url, e) from None
    if got < entry.size:  # the connection closed early (http.client returns what came)
        raise _offline(entry, url, f"the transfer stopped after {got:,} of {entry.size:,} bytes")
    if digest != entry.sha256:
        raise ZooError(f"{url}: SHA-256 {digest} is not the published {entry.sha256} "
                       f"of {entry.name} ({got:,} bytes); refused, nothing cached")


def _offline(entry: ZooEntry, url: str, reason) -> ZooError:
    """The one sentence for a download that failed: what to fetch, and where to put it."""
    return ZooError(f"could not download {entry.name} from {url} ({reason}); download that file "
                    f"yourself and put it at {pth_path(entry)} (SHA-256 {entry.sha256}), "
                    "then run the command again")


def fetch_pth(entry: ZooEntry) -> Path:
    """The verified ``.pth`` of ``entry`` in the cache, downloaded if it is not there."""
    path = pth_path(entry)
    if path.is_file():  # downloaded earlier, or put there by hand while offline
        digest = sha256_of(path)
        if digest != entry.sha256:
            raise ZooError(f"{path}: SHA-256 {digest} is not the published {entry.sha256} of "
                           f"{entry.name}; delete it to download it again from {url_of(entry)}")
        return path
    url = url_of(entry)
    _say(f"downloading {entry.name} ({entry.size / 2**20:.1f} MiB, {entry.licence}) from {url} "
         f"to {path}")
    cache_write(path, lambda tmp: _fetch(entry, url, tmp), entry.name, ZooError)
    return path


def convert_entry(entry: ZooEntry) -> Path:
    """``NAME.keras`` in the cache, converted once from the verified ``.pth``."""
    target = keras_path(entry)
    if target.is_file():
        return target
    pth = fetch_pth(entry)
    convert_into(pth, target, f"{entry.name} ({pth})", ZooError)
    return target


_twin_notes: set[str] = set()


def resolve(name: str | os.PathLike) -> Path | None:
    """The cached ``.keras`` of a zoo name (downloaded and converted on first use), with its
    weak-denoise twin beside it when it has one; None if ``name`` is no zoo name.

    A twin that cannot be had is a note, once, not an error: the model runs as trained, and an
    explicit ``--denoise-strength`` then says the twin is missing.
    """
    entry = lookup(name)
    if entry is None:
        return None
    path = convert_entry(entry)
    twin = lookup(entry.twin)
    if twin is not None and not is_cached(twin) and twin.name not in _twin_notes:
        try:  # once per process: a command resolves its model several times
            convert_entry(twin)
        except ZooError as e:
            _twin_notes.add(twin.name)
            _say(f"note: without its weak-denoise twin, {entry.name} runs as trained "
                 f"(no --denoise-strength): {e}")
    return path


# ---------------------------------------------------------------------------------------------
# --list-models: one shared flag for every command that takes --model

def listing() -> list[str]:
    """One line per model: name, where it is (bundled, cached, download), scale, network,
    licence. Bundled models are this repository's (MIT)."""
    from srgan_keras.inference import bundled
    from srgan_keras.inference.bundled import BUNDLED, DEFAULT_ORDER

    rows = [("NAME", "STATUS", "SCALE", "NETWORK", "LICENCE")]
    bundled_nets = {"realesr": "SRVGGNetCompact, trained here (the default); twin _wdn",
                    "srresnet": "SRResNet, trained here", "srgan": "SRGAN-MSE, trained here"}
    for key in [*DEFAULT_ORDER, *(k for k in BUNDLED if k not in DEFAULT_ORDER)]:
        there = (bundled.SAVED_MODELS / BUNDLED[key]).is_file()
        rows.append((key, "bundled" if there else "missing", "x4", bundled_nets.get(key, ""),
                     "MIT"))
    rows.append(("bicubic", "built in", "any", "interpolation, no network", "-"))
    for e in ENTRIES:
        status = "cached" if is_cached(e) else f"download {e.size / 2**20:.0f} MiB"
        net = e.arch + (f"; twin {e.twin}" if e.twin else "")
        rows.append((e.name, status, f"x{e.scale}", net, e.licence))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:4], widths)) + "  " + r[4] for r in rows]
    return [*lines, f"cache: {cache_dir()} (set {HOME_ENV} to move it)"]


class _ListModels(argparse.Action):
    """``--list-models``: print :func:`listing` and exit 0, before any other check (as
    ``--version`` does), so it needs no INPUT or --data."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print("\n".join(listing()))
        parser.exit(0)


def add_list_models_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--list-models", action=_ListModels,
                        help="list the model names: bundled, cached and downloadable (with "
                             "scale, network and licence), then exit")
