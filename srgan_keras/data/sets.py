"""The SRGAN paper's evaluation sets (Set5, Set14), fetched into your own checkout, verified.

    python -m srgan_keras.fetch_data                 # Set5 and Set14 into ./data
    python -m srgan_keras.fetch_data Set5 -o ~/sr    # one set, elsewhere

The notebooks and ``evaluate --data`` need the HR images of Set5 and Set14 (the paper's Table 2).
On the project's own machines they sit in ``../shared/data``; a student's laptop has them after
this command, in ``data/Set5`` and ``data/Set14`` (the folder the notebooks look in next,
:func:`find_data`).

Source: the public repository ``majedelhelou/denoising_datasets`` (colour versions; Set14's
``bridge.png`` is single-channel, as in the original set), pinned to one commit so that what is
fetched cannot change under the checksums. The checksums are those of the copies this project
evaluates with, whose bicubic Set5 x4 is the paper's 28.43 dB. A file is accepted if its bytes
hash to the published SHA-256, or if a host re-compressed the PNG, its decoded pixels hash to
the published pixel SHA-256 (our choice: the pixels are what the evaluation reads). A file that
is already there and verified is not fetched again; a file of the user's with the same name that
does not verify is never replaced (one line, the other files go on).

The images are research benchmarks of their authors (Bevilacqua et al. 2012; Zeyde et al. 2010);
this library does not redistribute them, it fetches them from that repository at your request.
``$SRGAN_KERAS_DATA_URL`` replaces the download folder (``BASE/Set5/baby.png``): a mirror, or the
tests' server on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from srgan_keras.data.download import DownloadError, TooLargeError, download, sha256_of
from srgan_keras.errors import SrganKerasError, command, first_line

SOURCE_REPO = "majedelhelou/denoising_datasets"
SOURCE_COMMIT = "d3636716c8e3fb806f4395bbb3f2e4c0fde50700"
BASE_URL = f"https://raw.githubusercontent.com/{SOURCE_REPO}/{SOURCE_COMMIT}"
URL_ENV = "SRGAN_KERAS_DATA_URL"
DATA_ENV = "SRGAN_KERAS_DATA"
# A host that re-compresses a PNG may make it larger; beyond this many times the published size
# (plus 64 KiB) the transfer is cut off (our choice).
SIZE_SLACK = 2


class SetsError(SrganKerasError, ValueError):
    """An unknown set name, or a file that could not be fetched or verified."""


@dataclass(frozen=True)
class SetFile:
    """One HR image of a benchmark set: its name, size in bytes and two SHA-256 digests."""

    name: str
    size: int
    sha256: str  # of the file's bytes
    pixels_sha256: str  # of the decoded array (PIL's mode: RGB, or L for bridge.png), C order


SETS: dict[str, tuple[SetFile, ...]] = {
    "Set5": (  # Bevilacqua et al., BMVC 2012
        SetFile("baby.png", 371264, "cb85956d68f708a1030c790d143cbcd108f5ac5988d3349180cdcb54dd80597d",
                "f14d515486b1a110a8f6a08b23114a7c0ef79e96337692bb48e24dfd8943b3b7"),
        SetFile("bird.png", 120453, "5dcf863f7c3802e68fbb0fca2ec351052a1f97a4db613e510dbd105cee9a6a32",
                "0f7ca11adc96abc59dd08160fb99dc77a3732ffc7b903db6832eceeb5592dcbf"),
        SetFile("butterfly.png", 127529, "487d841c9dbc46c7ab496c319ec1f13268de7ea7e02f94ae18781ca86a5abd0d",
                "200d3ae507119f83763ea74f31f54de31cad6a36ec478cae7a8eab2de2304163"),
        SetFile("head.png", 113787, "f524c1ce41641c1cf269a20c4dfbe965e07e471d609abc19dfadfb71037cc873",
                "1aca63a883d2cabd7a143dd452427305ca9fa8ab965d7202d9081fcce5cbd508"),
        SetFile("woman.png", 118848, "f276625a222b9ce18d18d86e1ec603fea50427b7c0a2927b3750b1bb86a07b83",
                "6d9d5a40b83984bde434c44ae6e070484ec37b15741b4561c684b2001deb474f"),
    ),
    "Set14": (  # Zeyde et al., Curves and Surfaces 2010
        SetFile("baboon.png", 531037, "bf6fb300762bcbe1340098b4309c179b2007c3bb81b7afde18c38a3ae70ac8a9",
                "98907465928a27865658a818db29276338ea9eaf528f7dbe1515a0d800f74614"),
        SetFile("barbara.png", 821015, "1ea77fe82564b55230d7c2439bef5738d18a4624280e263be48484c002b6280b",
                "0267e5896588256605a865df7b6bbe7c346b8059e970bbf8cae99b0973f38cec"),
        SetFile("bridge.png", 162038, "c0eb089ad3dacfa96ee79d9c112216265b36aaba205e06f80846b03b21884a53",
                "5dcb11614ab9734cbe24263b7abadf879df0c54a7b3b950de7f046d905fc4fa5"),
        SetFile("coastguard.png", 154469, "fc6c2acd5ca2116f37b1b38c0c2908ce64e2e414086fb43349c246d410669da6",
                "59e27df80c33a7cbef338414b81a5745cc9bf8d72a6d9275d7c773cd9f149520"),
        SetFile("comic.png", 192855, "49ccc5e33deff33992b929b07549d803f176e01bf9f41b73de6b15437bc2280d",
                "57505129f413912195e0ef1875d3deb72259776ed934c455e12e5cbe743ac9f6"),
        SetFile("face.png", 110826, "5cc7a1c5c013b46a7ab4850cb709974d26971550106375a36fd641c725bce9aa",
                "10729944d3efb29e5ec99a92cb80ddfa4a69f6853549ba9691a98dd81a01ebf7"),
        SetFile("flowers.png", 348592, "609e9fc9ffd6c9689c6200a11e057c19e6e4ec5d385fe0d6eb59a7b24f327894",
                "806ffffa563c57c5c1583872a4c3aba620c3a590d61b68f0bbccf5aabaedd528"),
        SetFile("foreman.png", 130720, "af4ad4771fd2def0a09ba0011e67225f10ad1590e85b48aab4f6820fa932b1ed",
                "df44893b86c999937d2354ff96a9b56ccf95afbac530005bdb342f3b84eca818"),
        SetFile("lenna.png", 374782, "72d70a7a5051c6193f02b03decb6c7b1d336abe2d024f441a2384acaee84af55",
                "467e7e33da6f66bd3b9a61510cb7ce87d7fd004d82d8a15e3febecd7a5f314c9"),
        SetFile("man.png", 318631, "ba7a7e45f690a542fc32fdefe1e04e0128d1cdf8c3817c1ee7b0300961636bfe",
                "6b586ecfe5e768e612442c459430a451ba4490934d28ec7ac6c6ccfd025f802a"),
        SetFile("monarch.png", 618686, "ed96187293a37c931250d137553928e1a9a63e31296b82a4968dde63683bb101",
                "601d3e0f5563eeef71d45f8a89ac73cf2f3d546cf572b8f8744950d17927c0d8"),
        SetFile("pepper.png", 507582, "46339a09e2ae31d2f0513642607586a00d82feaf48dc3cc770e42be5684a11a9",
                "a18d4e9adaa8677dbf9d454680ace6000767e81a349ddbebf988670d1623bb85"),
        SetFile("ppt3.png", 269159, "a9276fa3f7fbd4257ccede14d1004f836c10fcc2bac174b2428f43fe899b8f9d",
                "a855ec6f6aae3f6e18fe4830751437f99f5735156da92c40208d87b1632fa530"),
        SetFile("zebra.png", 442990, "af146347f19b1ab9f1da26113a88505d600e2dcb84bf91bb8e2013691e79bcc7",
                "caab9603b04192480c22bdb13717612760a531a7f127ee0fa6c471bf34ca6c52"),
    ),
}


def pixels_sha256(path: str | os.PathLike) -> str | None:
    """SHA-256 of the decoded pixels (PIL's own mode, C order); None if it is no readable image."""
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            return hashlib.sha256(np.ascontiguousarray(np.asarray(im)).tobytes()).hexdigest()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


def verified(path: str | os.PathLike, f: SetFile) -> bool:
    """Whether the file at ``path`` is ``f``: its bytes, or else its decoded pixels."""
    return sha256_of(path) == f.sha256 or pixels_sha256(path) == f.pixels_sha256


def url_of(set_name: str, f: SetFile) -> str:
    base = os.environ.get(URL_ENV) or BASE_URL
    return f"{base.rstrip('/')}/{set_name}/{f.name}"


def canonical(name: str) -> str:
    """The set's name as :data:`SETS` spells it (case does not matter)."""
    for key in SETS:
        if key.lower() == name.lower():
            return key
    raise SetsError(f"unknown set {name!r}: choose from {', '.join(SETS)}")


def fetch_file(set_name: str, f: SetFile, folder: Path) -> str:
    """Fetch one image into ``folder`` unless a verified copy is there; return what happened
    (``"fetched"`` or ``"present"``). Raises SetsError with one line naming the file."""
    from srgan_keras.data.files import atomic_write, write_failure

    path = folder / f.name
    if path.exists():
        if path.is_file() and verified(path, f):
            return "present"
        raise SetsError(f"{path}: exists and is not {set_name}'s {f.name} (neither its bytes nor "
                        "its pixels match); left as it is: move it away and run this again")
    url = url_of(set_name, f)

    def write(tmp: str) -> None:
        try:
            got, digest = download(url, tmp, limit=SIZE_SLACK * f.size + (64 << 10), desc=f.name)
        except TooLargeError as e:
            raise SetsError(f"{first_line(e)}: not {set_name}'s {f.name}; nothing written") from None
        except DownloadError as e:
            raise SetsError(f"could not download {url} ({first_line(e)}); download it yourself "
                            f"and put it at {path}, then run this again") from None
        if digest != f.sha256 and pixels_sha256(tmp) != f.pixels_sha256:
            raise SetsError(f"{url}: {got:,} bytes that are not {set_name}'s {f.name} (SHA-256 "
                            f"{digest}, published {f.sha256}); refused, nothing written")

    try:
        atomic_write(path, write, overwrite=False)
    except OSError as e:
        if isinstance(e, SrganKerasError):
            raise
        line = write_failure(path, e, flag="")
        if line is None:
            raise
        raise SetsError(line) from None
    return "fetched"


def fetch(names: list[str], root: str | os.PathLike) -> tuple[int, int, list[str]]:
    """Fetch each named set into ``root/NAME``; return (fetched, present, failure lines).
    One file's failure is its line; the others go on."""
    fetched = present = 0
    failures: list[str] = []
    for set_name in dict.fromkeys(canonical(n) for n in names):
        folder = Path(root) / set_name
        made = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            failures.append(f"{folder}: cannot create the folder ({e.strerror})")
            continue
        for f in SETS[set_name]:
            try:
                if fetch_file(set_name, f, folder) == "fetched":
                    fetched += 1
                else:
                    present += 1
            except SrganKerasError as e:  # this file; the others go on
                failures.append(first_line(e))
        if made and not any(folder.iterdir()):  # nothing came: no empty folder of ours is left
            folder.rmdir()
    return fetched, present, failures


def find_data(start: str | os.PathLike = ".") -> Path | None:
    """The folder that holds ``Set5/`` and ``Set14/``, looked for in this order:
    ``$SRGAN_KERAS_DATA``, ``../shared/data`` (the project's machines), ``data/`` (where
    ``fetch_data`` puts them); relative paths from ``start``. None if none has Set5."""
    start = Path(start)
    env = os.environ.get(DATA_ENV)
    for cand in ([Path(env)] if env else []) + [start / "../shared/data", start / "data"]:
        if (cand / "Set5").is_dir():
            return cand
    return None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m srgan_keras.fetch_data",
        description="Download the SRGAN paper's evaluation sets (HR images), verified by SHA-256, "
                    f"from {SOURCE_REPO} at commit {SOURCE_COMMIT[:7]}. Files already there and "
                    "verified are kept; nothing of yours is replaced.")
    p.add_argument("sets", nargs="*", default=list(SETS), metavar="SET",
                   help=f"which sets: {', '.join(SETS)} (default: all)")
    p.add_argument("-o", "--out", default="data",
                   help="the folder that gets SET/ subfolders (default: data, which the notebooks "
                        "and the README's evaluate commands look in)")
    return p


@command
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    names = [canonical(n) for n in args.sets]
    fetched, present, failures = fetch(names, args.out)
    for line in failures:
        print(f"error: {line}", file=sys.stderr)
    total = sum(len(SETS[n]) for n in dict.fromkeys(names))
    print(f"{', '.join(dict.fromkeys(names))} in {args.out}: {fetched} fetched, {present} already "
          f"there, {len(failures)} failed (of {total})")
    return 1 if failures else 0
