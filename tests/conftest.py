"""Shared fixtures: tiny models and the shared image sets beside the checkout."""

from __future__ import annotations

import http.server
import os
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# the model cache (zoo downloads, .pth conversions) of a test run is its own, never the user's
os.environ.setdefault("SRGAN_KERAS_HOME", tempfile.mkdtemp(prefix="srgan_keras_test_home_"))

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "Set5").is_dir():
        pytest.skip(f"shared image sets not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def tiny_generator():
    """A 2-block, 8-filter x4 SRResNet: same graph as the paper's, seconds to run."""
    import keras

    from srgan_keras.nn.srresnet import build_srresnet

    keras.utils.set_random_seed(0)
    return build_srresnet(scale=4, num_blocks=2, num_filters=8)


@pytest.fixture(scope="session")
def tiny_model_path(tiny_generator, tmp_path_factory) -> Path:
    """The tiny generator saved as a .keras file, for the CLIs."""
    path = tmp_path_factory.mktemp("model") / "tiny_x4.keras"
    tiny_generator.save(path)
    return path


@pytest.fixture(scope="module")
def tiny_keras(tmp_path_factory) -> Path:
    """A tiny SRVGGNetCompact x4 (1 conv, 4 features) saved as ``G.keras``."""
    import keras

    from srgan_keras.nn.srvgg import build_srvgg

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("g") / "G.keras"
    build_srvgg(num_conv=1, num_feat=4).save(path)
    return path


@pytest.fixture(scope="module")
def tiny_pth(tmp_path_factory) -> Path:
    """A Real-ESRGAN SRVGGNetCompact .pth (num_conv 1, 4 features, x4), written by torch."""
    torch = pytest.importorskip("torch")
    from benchmarks.bench_srvgg import srvgg_module

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("pth") / "x4.pth"
    torch.save({"params": srvgg_module(4, 1, 4).state_dict()}, path)
    return path


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving ``files`` (name -> bytes); ``hits`` lists requests;
    ``claims`` (name -> bytes) announces a longer body than it sends, then hangs up."""
    files: dict[str, bytes] = {}
    claims: dict[str, int] = {}
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 -- http.server's name
            hits.append(self.path)
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(claims.get(self.path.lstrip("/"), len(body))))
            self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{httpd.server_port}", files=files, hits=hits,
                          claims=claims)
    httpd.shutdown()
    httpd.server_close()
