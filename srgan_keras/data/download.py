"""One way to download a file: streamed into a temporary file of ours, bounded, hashed on the way.

Both things this library downloads go through :func:`download`: the model zoo's published
weights (:mod:`srgan_keras.inference.zoo`) and the benchmark images (:mod:`srgan_keras.data.sets`).
The caller wraps it in :func:`srgan_keras.data.files.atomic_write`, so a failed or refused
transfer leaves nothing behind, and compares the returned SHA-256 with the one it publishes.
Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request

from srgan_keras.errors import SrganKerasError

TIMEOUT_S = 60  # per socket operation, not for the whole download (our choice)
CHUNK = 1 << 20


class DownloadError(SrganKerasError, OSError):
    """A transfer that did not complete: no network, a refused or missing URL, a stall."""


class TooLargeError(DownloadError):
    """The server sent more bytes than the caller allows: the transfer was cut off there."""


def download(url: str, tmp: str, limit: int, desc: str = "") -> tuple[int, str]:
    """Stream ``url`` into the file ``tmp``, reading at most ``limit`` bytes; return the number
    of bytes and their SHA-256 (lowercase hex).

    Raises :class:`TooLargeError` past ``limit`` and :class:`DownloadError` for a network failure
    (its message: the reason only; the caller says what to fetch and where to put it). A transfer
    that stops early returns what came: the caller's size or hash check refuses it.
    """
    from tqdm import tqdm

    h, got = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as resp, open(tmp, "wb") as out, \
                tqdm(total=limit, unit="B", unit_scale=True, disable=None, leave=False,
                     desc=desc or None) as bar:
            while chunk := resp.read(CHUNK):
                got += len(chunk)
                if got > limit:
                    raise TooLargeError(f"{url}: more than {limit:,} bytes")
                h.update(chunk)
                out.write(chunk)
                bar.update(len(chunk))
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as e:
        # no route, DNS, refused, HTTP 404, a stall
        raise DownloadError(str(getattr(e, "reason", None) or e)) from None
    return got, h.hexdigest()


def sha256_of(path) -> str:
    """The SHA-256 (lowercase hex) of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()
