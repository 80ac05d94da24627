"""The model zoo (issue 28.4) and ``--model x.pth`` converted on the fly (28.3), against a local
HTTP server on 127.0.0.1: nothing reaches the internet. The served ``.pth`` files are tiny
SRVGGNetCompact state dicts written here without torch (the pickle writer of
test_torch_pickle.py); the test computes their SHA-256.
"""

from __future__ import annotations

import hashlib
import re
import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from test_torch_pickle import _str, state_dict, tensor, write_zip

from srgan_keras.inference import runners, zoo

FEAT, SCALE = 4, 4
# Real-ESRGAN's naming, so the twin is found by the rule that pairs realesr-general-x4v3 with
# realesr-general-wdn-x4v3 (evaluation/interpolate.py wdn_candidates)
NAME, TWIN = "realesr-general-tiny", "realesr-general-wdn-tiny"


def srvgg_state(seed: int) -> dict[str, np.ndarray]:
    """Real-ESRGAN's SRVGGNetCompact with one body convolution and 4 features, x4."""
    rng = np.random.default_rng(seed)
    shapes = {"body.0.weight": (FEAT, 3, 3, 3), "body.0.bias": (FEAT,), "body.1.weight": (FEAT,),
              "body.2.weight": (FEAT, FEAT, 3, 3), "body.2.bias": (FEAT,),
              "body.3.weight": (FEAT,), "body.4.weight": (3 * SCALE**2, FEAT, 3, 3),
              "body.4.bias": (3 * SCALE**2,)}
    return {k: (0.1 * rng.standard_normal(s)).astype(np.float32) for k, s in shapes.items()}


def pth_bytes(sd: dict[str, np.ndarray], path: Path) -> bytes:
    """``sd`` as torch.save's zip format, written to ``path``; its bytes."""
    items, storages = [], {}
    for i, (key, a) in enumerate(sd.items()):
        stride = tuple(s // a.itemsize for s in a.strides)
        items.append((_str(key), tensor(str(i), a.size, a.shape, stride)))
        storages[str(i)] = a.tobytes()
    write_zip(path, state_dict(items), storages)
    return path.read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def entry(name: str, data: bytes, twin: str | None = None, digest: str | None = None,
          size: int | None = None) -> zoo.ZooEntry:
    # the URL's host is never contacted: SRGAN_KERAS_ZOO_URL points every entry at the server
    return zoo.ZooEntry(name, f"https://zoo.invalid/{name}.pth", digest or sha(data),
                        size or len(data), "SRVGGNetCompact, 1 conv", SCALE, "MIT", "this test",
                        twin=twin)


@pytest.fixture
def cache(tmp_path, monkeypatch, server) -> Path:
    """The zoo's cache in tmp_path, its downloads from ``server``, no proxy in between."""
    monkeypatch.setenv(zoo.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(zoo.URL_ENV, server.url)
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(zoo, "_twin_notes", set())
    return tmp_path / "home" / "models"


@pytest.fixture
def tiny_pair(tmp_path, server, monkeypatch):
    """Zoo entries NAME and its weak-denoise twin TWIN, served by ``server``."""
    sd, sd_wdn = srvgg_state(0), srvgg_state(1)
    data, data_wdn = pth_bytes(sd, tmp_path / "a.pth"), pth_bytes(sd_wdn, tmp_path / "b.pth")
    server.files.update({f"{NAME}.pth": data, f"{TWIN}.pth": data_wdn})
    monkeypatch.setattr(zoo, "ENTRIES", (entry(NAME, data, twin=TWIN),
                                         entry(TWIN, data_wdn)))
    return SimpleNamespace(sd=sd, data=data, data_wdn=data_wdn)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_convert_cache_then_reuse_without_a_request(cache, server, tiny_pair):
    path = runners.resolve_model_path(NAME.upper())  # a zoo name, in any case
    assert path == cache / f"{NAME}.keras"
    assert leftovers(cache) == [f"{NAME}.keras", f"{NAME}.pth", f"{TWIN}.keras", f"{TWIN}.pth"]
    assert sorted(server.hits) == [f"/{NAME}.pth", f"/{TWIN}.pth"]
    assert (cache / f"{NAME}.pth").read_bytes() == tiny_pair.data

    strong = runners.load_generator(NAME)
    assert strong.scale == SCALE
    kernel = strong.model.get_layer("body_0").get_weights()[0]  # the served weights, HWIO
    np.testing.assert_array_equal(kernel, tiny_pair.sd["body.0.weight"].transpose(2, 3, 1, 0))
    # --denoise-strength blends with the downloaded twin, as the bundled realesr with its _wdn
    weak = runners.load_generator(cache / f"{TWIN}.keras")
    blend = runners.load_generator(NAME, denoise_strength=0.25)
    for b, s, w in zip(blend.model.weights, strong.model.weights, weak.model.weights):
        np.testing.assert_allclose(np.asarray(b), 0.25 * np.asarray(s) + 0.75 * np.asarray(w),
                                   rtol=1e-6, atol=1e-7)
    assert len(server.hits) == 2  # every later call used the cache


def test_a_wrong_checksum_is_refused_in_one_line_and_nothing_is_cached(cache, server, tmp_path,
                                                                       monkeypatch):
    data = pth_bytes(srvgg_state(0), tmp_path / "a.pth")
    server.files[f"{NAME}.pth"] = data
    monkeypatch.setattr(zoo, "ENTRIES", (entry(NAME, data, digest=sha(b"another file")),))
    with pytest.raises(runners.ModelNotFoundError) as e:
        runners.resolve_model_path(NAME)
    msg = str(e.value)
    assert "\n" not in msg and sha(data) in msg and "refused, nothing cached" in msg
    assert leftovers(cache) == []
    # a server that sends more than the published size is cut off, nothing cached either
    monkeypatch.setattr(zoo, "ENTRIES", (entry(NAME, data, size=len(data) - 1),))
    with pytest.raises(runners.ModelNotFoundError, match="more than the published"):
        runners.resolve_model_path(NAME)
    assert leftovers(cache) == []


def test_offline_one_sentence_says_what_to_download_and_where(cache, tmp_path, monkeypatch,
                                                              capsys, tiny_pair):
    with socket.socket() as s:  # a port nobody listens on: the server is down
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(zoo.URL_ENV, f"http://127.0.0.1:{port}")
    from srgan_keras.inference import upscale

    assert upscale.main(["--example", "--model", NAME, "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    error = [line for line in err if line.startswith("error:")]
    assert len(error) == 1
    assert f"http://127.0.0.1:{port}/{NAME}.pth" in error[0]
    assert f"put it at {cache / f'{NAME}.pth'} " in error[0] and sha(tiny_pair.data) in error[0]
    assert leftovers(cache) == []
    # the file put where the sentence says is used, with no server at all
    cache.mkdir(parents=True, exist_ok=True)
    (cache / f"{NAME}.pth").write_bytes(tiny_pair.data)
    assert runners.resolve_model_path(NAME) == cache / f"{NAME}.keras"
    assert "without its weak-denoise twin" in capsys.readouterr().err  # said once, not an error
    assert not runners.supports_denoise_strength(NAME)  # so auto runs the model as trained
    # a wrong file put there is refused and kept: it is the user's
    (cache / f"{NAME}.keras").unlink()
    (cache / f"{NAME}.pth").write_bytes(b"not the published file")
    with pytest.raises(runners.ModelNotFoundError, match="delete it to download it again"):
        runners.resolve_model_path(NAME)
    assert (cache / f"{NAME}.pth").read_bytes() == b"not the published file"


def test_a_transfer_cut_short_is_the_offline_sentence(cache, server, tiny_pair):
    half = len(tiny_pair.data) // 2
    server.files[f"{NAME}.pth"] = tiny_pair.data[:half]  # half of it, then the connection closes
    server.claims[f"{NAME}.pth"] = len(tiny_pair.data)
    with pytest.raises(runners.ModelNotFoundError) as e:
        runners.resolve_model_path(NAME)
    assert str(e.value).startswith(f"could not download {NAME} from {server.url}/{NAME}.pth "
                                   f"(the transfer stopped after {half:,} of ")
    assert leftovers(cache) == []


def test_list_models_shows_bundled_cached_and_downloadable(cache, server, tiny_pair, capsys):
    from srgan_keras.evaluation import evaluate
    from srgan_keras.inference import upscale

    runners.resolve_model_path(TWIN)
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:  # no INPUT needed
        upscale.parse_args(["--list-models"])
    assert e.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split() for line in lines}
    assert rows["realesr"][1] in {"bundled", "missing"} and rows["realesr"][-1] == "MIT"
    assert rows[TWIN][1:3] == ["cached", "x4"]
    assert rows[NAME][1] == "download" and rows[NAME][-1] == "MIT"
    assert lines[-1].startswith(f"cache: {cache} ")
    with pytest.raises(SystemExit):  # the same list where --data is required
        evaluate.main(["--list-models"])
    assert capsys.readouterr().out.splitlines() == lines
    assert len(server.hits) == 1  # listing fetches nothing


def test_a_mistyped_name_lists_the_zoo_and_the_closest_name(cache, server):
    with pytest.raises(runners.ModelNotFoundError) as e:
        runners.resolve_model_path("RealESRGAN_x4pls")
    msg = str(e.value)
    assert "did you mean RealESRGAN_x4plus?" in msg and "realesr-animevideov3" in msg
    assert "realesr, srresnet, srgan, bicubic" in msg and not server.hits


def test_the_table_is_well_formed():
    """Every hash is a SHA-256, every name reachable once, every twin an entry of the table."""
    keys = [k.lower() for e in zoo.ENTRIES for k in {e.name, e.file, *e.aliases}]
    assert len(keys) == len(set(keys))
    assert not set(keys) & set(runners.MODEL_NAMES)  # no zoo name hides a bundled one
    for e in zoo.ENTRIES:
        assert re.fullmatch(r"[0-9a-f]{64}", e.sha256), e.name
        assert e.url.startswith("https://") and e.file.endswith(".pth") and e.size > 0
        assert e.twin is None or zoo.lookup(e.twin) is not None
        assert zoo.lookup(e.name.upper()) is e


def test_the_web_page_offers_the_zoo_and_knows_its_twins_before_any_download(cache, server):
    from srgan_keras.inference import web_upscale as web

    choices = web.model_choices()
    assert "RealESRGAN_x4plus" in choices and "realesr-general-wdn-x4v3" not in choices
    assert web.denoise_supported("realesr-general-x4v3")  # the strength slider is shown
    assert not web.denoise_supported("RealESRGAN_x4plus")
    assert not server.hits and leftovers(cache) == []


# ---------------------------------------------------------------- --model x.pth (issue 28.3)


def test_a_pth_path_is_converted_once_into_the_cache_with_its_twin(cache, tmp_path, capsys):
    folder = tmp_path / "weights"
    folder.mkdir()
    sd, sd_wdn = srvgg_state(2), srvgg_state(3)
    pth_bytes(sd, folder / f"{NAME}.pth")
    pth_bytes(sd_wdn, folder / f"{TWIN}.pth")  # Real-ESRGAN's twin naming, beside it
    strong = runners.load_generator(folder / f"{NAME}.pth")
    kernel = strong.model.get_layer("body_0").get_weights()[0]
    np.testing.assert_array_equal(kernel, sd["body.0.weight"].transpose(2, 3, 1, 0))
    err = capsys.readouterr().err
    assert err.count("converted ") == 2 and f"--model {folder / NAME}.pth once -> {cache}" in err
    assert leftovers(folder) == [f"{NAME}.pth", f"{TWIN}.pth"]  # nothing written beside them
    (converted,) = (cache / "converted").iterdir()
    assert leftovers(converted) == [f"{NAME}.keras", f"{TWIN}.keras"]

    blend = runners.load_generator(folder / f"{NAME}.pth", denoise_strength=0.5)  # the twin works
    weak = runners.load_generator(converted / f"{TWIN}.keras")
    for b, s, w in zip(blend.model.weights, strong.model.weights, weak.model.weights):
        np.testing.assert_allclose(np.asarray(b), 0.5 * (np.asarray(s) + np.asarray(w)),
                                   rtol=1e-6, atol=1e-7)
    assert "converted" not in capsys.readouterr().err  # later runs load the cached .keras

    pth_bytes(srvgg_state(4), folder / f"{NAME}.pth")  # the same name, other weights
    again = runners.load_generator(folder / f"{NAME}.pth")
    assert not np.array_equal(again.model.get_layer("body_0").get_weights()[0], kernel)
    assert len(list((cache / "converted").iterdir())) == 2


def test_a_pth_that_is_not_weights_is_one_line_and_caches_nothing(cache, tmp_path):
    pth = tmp_path / "RealESRGAN_x4plus.pth"
    pth.write_bytes(b"PK\x03\x04 not a checkpoint")
    with pytest.raises(runners.ModelNotFoundError) as e:
        runners.load_generator(pth)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith(f"--model {pth}: cannot be converted: "), msg
    assert not (cache / "converted").exists()
