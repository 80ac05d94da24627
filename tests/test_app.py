"""The local web page (issue 16.7): the upscaling behind it, and the page end to end in Chromium.

The browser test starts ``python -m srgan_keras.app`` on a free loopback port under
``tests/offline_guard.py`` (every non-loopback connection refused and logged), drives Debian's
Chromium with Playwright, and checks the result's size. It needs Gradio in the server's Python
(``SRGAN_APP_PYTHON``, set by ``.ci/run`` to a venv with the ``[app]`` extra, else this Python),
the ``playwright`` package here, and ``/usr/bin/chromium``; it is skipped, saying which is
missing, without them.
"""

from __future__ import annotations

import importlib.util
import io
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srgan_keras.inference import web_upscale as web
from srgan_keras.inference import webapp

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("SRGAN_CHROMIUM", "/usr/bin/chromium")
# Flags from the machine notes: without the background-networking ones Chromium keeps trying to
# reach Google's hosts; Playwright adds the fresh --user-data-dir of launch_persistent_context.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def save_png(path: Path, arr: np.ndarray) -> Path:
    Image.fromarray(arr).save(path)
    return path


@pytest.fixture
def photo(tmp_path) -> Path:
    """A 32x24 RGB PNG carrying an sRGB ICC profile and a text chunk (both must survive)."""
    from PIL import ImageCms, PngImagePlugin

    rng = np.random.default_rng(0)
    info = PngImagePlugin.PngInfo()
    info.add_text("Title", "a test photo")
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = tmp_path / "photo.png"
    Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(
        path, pnginfo=info, icc_profile=icc)
    return path


def assert_metadata_kept(src: Path, out) -> None:
    with Image.open(src) as a, Image.open(out) as b:
        assert b.info.get("icc_profile") == a.info["icc_profile"]
        assert b.text.get("Title") == "a test photo"


def test_upscale_file_writes_x4_in_the_input_format_and_counts_tiles(photo, tiny_model_path,
                                                                      tmp_path):
    calls = []
    result = web.upscale_file(photo, str(tiny_model_path), None, tmp_path / "out", tile=16,
                                 on_progress=lambda done, total: calls.append((done, total)))
    assert result.path == tmp_path / "out" / "photo_x4.png"
    with Image.open(result.path) as im:
        assert im.size == (128, 96) and im.mode == "RGB"
    assert_metadata_kept(photo, result.path)
    assert calls[0] == (0, 768)  # the start, once the model is loaded
    assert len(calls) == 5 and calls[-1] == (768, 768)  # then 32x24 in 16 px tiles: 2 x 2
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)
    assert result.summary.startswith("32x24 -> 128x96 with tiny_x4.keras in ")

    from srgan_keras.inference.runners import load_generator
    from srgan_keras.inference.tiling import upscale_image

    # the page runs the upscale CLI's default precision (auto: bfloat16 on a CPU that has it)
    runner = load_generator(tiny_model_path, precision="auto")
    want = upscale_image(np.asarray(Image.open(photo)), runner, tile=16)
    np.testing.assert_array_equal(np.asarray(Image.open(result.path)), want)


def test_previews_are_one_size_and_keep_alpha_and_gray(tmp_path, tiny_model_path):
    rgba = np.zeros((24, 32, 4), np.uint8)
    rgba[..., 1], rgba[..., 3] = 200, 128
    result = web.upscale_file(save_png(tmp_path / "a.png", rgba), "bicubic", None, tmp_path,
                                 tile=None)
    before, after = web.previews(result.image, result.out)
    assert before.size == after.size == (128, 96) and before.mode == after.mode == "RGBA"
    assert abs(int(np.asarray(before)[50, 60, 1]) - 200) <= 1
    gray = save_png(tmp_path / "g.png", np.full((24, 32), 90, np.uint8))
    result = web.upscale_file(gray, "bicubic", None, tmp_path, tile=None)
    before, after = web.previews(result.image, result.out)
    assert before.mode == after.mode == "L"

    big = web.Result(tmp_path / "x.png", result.image, np.zeros((3000, 4000), np.uint8), "")
    before, after = web.previews(big.image, big.out)
    assert before.size == after.size == (web.PREVIEW_SIDE, 1536)  # long side capped


def test_a_bad_upload_is_one_line_naming_the_file_not_the_temp_path(tmp_path):
    bad = tmp_path / "upload" / "notes.png"
    bad.parent.mkdir()
    bad.write_text("not an image")
    with pytest.raises(web.AppError) as e:
        web.upscale_file(bad, "bicubic", None, tmp_path, tile=None)
    assert str(e.value) == "notes.png: not an image file"
    with pytest.raises(web.AppError, match="does not exist"):
        web.upscale_file(bad, str(tmp_path / "missing.keras"), None, tmp_path, tile=None)


def test_an_upload_too_large_for_its_format_is_refused_before_the_model_runs(tmp_path,
                                                                            monkeypatch):
    """Issue 27.13: a 4100 px wide WebP would come out 16400 px wide, more than WebP holds; the
    page says so in one line before computing, as the CLI does, and writes nothing."""
    upload = tmp_path / "upload" / "wide.webp"
    upload.parent.mkdir()
    Image.fromarray(np.full((4, 4100, 3), 90, np.uint8)).save(upload, lossless=True)
    computed = []
    from srgan_keras.inference import upscale

    monkeypatch.setattr(upscale, "upscale_image", lambda *a, **k: computed.append(1))
    with pytest.raises(web.AppError) as e:
        web.upscale_file(upload, "bicubic", None, tmp_path / "out", tile=None)
    assert str(e.value) == ("wide.webp: a 16400x16 output is larger than WEBP allows (16383 px per "
                            "side); use --format png or a smaller --outscale")  # the CLI's line
    assert computed == [] and not (tmp_path / "out").exists()


def test_the_pages_result_never_replaces_a_file_it_did_not_write(photo, tmp_path):
    """The page claims its output by the rules of every command: its own earlier result is
    replaced, a file of someone else's is not (before anything is computed)."""
    out = tmp_path / "out"
    first = web.upscale_file(photo, "bicubic", None, out, tile=None)
    again = web.upscale_file(photo, "bicubic", None, out, tile=None)  # ours: replaced
    assert again.path == first.path and first.path.is_file()
    first.path.write_bytes(b"someone else's file")
    with pytest.raises(web.AppError, match="photo_x4.png exists and was not written by this"):
        web.upscale_file(photo, "bicubic", None, out, tile=None)
    assert first.path.read_bytes() == b"someone else's file"


def test_job_folders_do_not_pile_up_while_the_page_runs(photo, tmp_path):
    """A finished upload's folder stays until the next upload starts (Gradio has copied the
    result into its cache by then), a failed one goes at once, everything when the page stops."""
    jobs = web.JobFolders(tmp_path)
    first = jobs.new()
    result = web.upscale_file(photo, "bicubic", None, first, tile=None)
    jobs.finished(first)
    assert result.path.is_file()  # the download still there while the page shows it
    second = jobs.new()
    assert not first.exists() and second.is_dir()
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(web.AppError):
        web.upscale_file(bad, "bicubic", None, second, tile=None)
    jobs.failed(second)
    assert not second.exists()
    for _ in range(3):
        job = jobs.new()
        web.upscale_file(photo, "bicubic", None, job, tile=None)
        jobs.finished(job)
    assert list(jobs.root.iterdir()) == [job]  # one result kept, however many were served
    jobs.close()
    assert not jobs.root.exists() and list(tmp_path.glob("srgan_keras_app_*")) == []


def test_a_killed_pages_work_folder_goes_when_the_next_page_starts(tmp_path):
    """Issue 27.12 for the page: kill -9 leaves the work folder; the next page removes it, and
    leaves a live page's folder and anything not ours alone."""
    import subprocess
    import sys

    alive = web.JobFolders(tmp_path)  # this process: a page that is running
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that has ended
    killed = tmp_path / f"{web.WORK_PREFIX}{dead.pid}_abc123"
    (killed / "job").mkdir(parents=True)
    (killed / "job" / "photo_x4.png").write_bytes(b"a result")
    mine = tmp_path / "srgan_keras_app_notes"  # not a page's name: the user's
    mine.mkdir()
    nxt = web.JobFolders(tmp_path)
    assert nxt.removed == [killed] and not killed.exists()
    assert alive.root.is_dir() and mine.is_dir() and nxt.root.is_dir()
    alive.close()
    nxt.close()


def test_model_choices_list_bundled_then_bicubic_then_zoo_then_extra(tmp_path):
    from srgan_keras.inference import bundled as shipped
    from srgan_keras.inference import zoo

    choices = web.model_choices([str(tmp_path / "mine.keras")])
    bundled = [k for k in shipped.BUNDLED if (shipped.SAVED_MODELS / shipped.BUNDLED[k]).exists()]
    assert choices[:len(bundled)] == [k for k in choices if k in bundled]
    assert set(choices[:len(bundled)]) == set(bundled)
    # the zoo's names, but not the weak-denoise twins (blended in, not chosen)
    offered = ["realesr-general-x4v3", "RealESRGAN_x4plus", "RealESRGAN_x2plus",
               "RealESRGAN_x4plus_anime_6B", "realesr-animevideov3", "ESRGAN_x4"]
    assert offered == [n for n in zoo.names() if n != "realesr-general-wdn-x4v3"]
    assert choices[len(bundled):] == ["bicubic", *offered, str(tmp_path / "mine.keras")]
    if bundled:  # the loader's default comes first (realesr, issue 12.6)
        assert choices[0] == next(k for k in shipped.DEFAULT_ORDER if k in bundled)
    if "realesr" in bundled:
        assert choices[0] == "realesr"


def with_wdn_twin(model: Path, folder: Path, stem: str = "dn_x4") -> Path:
    """A copy of ``model`` with a weak-denoise twin beside it (``<stem>_wdn.keras``)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(model, folder / f"{stem}.keras")
    shutil.copy(model, folder / f"{stem}_wdn.keras")
    return folder / f"{stem}.keras"


def test_denoise_slider_follows_what_the_loading_api_supports(tiny_model_path, tmp_path, photo):
    web.denoise_supported.cache_clear()
    dn = with_wdn_twin(tiny_model_path, tmp_path / "models")
    try:
        assert web.denoise_supported(str(dn))  # NAME_wdn.keras beside it
        assert not web.denoise_supported(str(tiny_model_path))  # no twin
        assert not web.denoise_supported("bicubic")
        result = web.upscale_file(photo, str(dn), 0.3, tmp_path / "out", tile=None)
        assert result.summary.startswith("32x24 -> 128x96 with dn_x4.keras, denoise 0.30 in ")
        result = web.upscale_file(photo, str(tiny_model_path), 0.3, tmp_path / "out", tile=None)
        assert "denoise" not in result.summary  # ignored where the model has no twin
    finally:
        web.denoise_supported.cache_clear()


def test_the_page_defaults_to_auto_as_the_cli_and_says_the_strength_chosen(tiny_model_path,
                                                                           tmp_path, photo):
    """Issue 24.1: the page's default is the CLI's (--denoise-strength auto), and its result
    line names the strength chosen for the photo and what it was chosen from."""
    from srgan_keras.inference import upscale

    assert web.DENOISE_DEFAULT == "auto" == upscale.parse_args(["x.png"]).denoise_strength
    web.denoise_supported.cache_clear()
    web.load_runner.cache_clear()
    dn = with_wdn_twin(tiny_model_path, tmp_path / "models")
    try:
        result = web.upscale_file(photo, str(dn), web.DENOISE_DEFAULT, tmp_path / "out",
                                     tile=None)
        assert result.summary.startswith("32x24 -> 128x96 with dn_x4.keras, denoise "), result.summary
        assert "(noise " in result.summary
        result = web.upscale_file(photo, str(tiny_model_path), "auto", tmp_path / "o2", tile=None)
        assert "denoise" not in result.summary  # no twin: auto does not apply
    finally:
        web.denoise_supported.cache_clear()


def test_without_gradio_one_line_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "gradio", None)
    for name in ("GRADIO_ANALYTICS_ENABLED", "HF_HUB_DISABLE_TELEMETRY", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(name, "")  # main() sets them; restored after the test
    assert webapp.main([]) == 2
    assert capsys.readouterr().err == ("error: the web page needs Gradio, which is not installed: "
                                       "pip install 'srgan_keras[app]'\n")


# --------------------------------------------------------------------------- in the browser


def _app_python() -> str | None:
    """A Python that has Gradio and can import this checkout, or None."""
    exe = os.environ.get("SRGAN_APP_PYTHON") or sys.executable
    ok = subprocess.run([exe, "-c", "import gradio"], capture_output=True).returncode == 0
    return exe if ok else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_page(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"the app did not answer at {url} in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def _missing(reason: str) -> None:
    """Skip locally; in CI (.ci/run installs all three) a missing piece is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser test: {reason}")
    pytest.skip(reason)


@pytest.mark.slow
def test_page_upscales_an_uploaded_image_offline_in_chromium(photo, tiny_model_path, tmp_path):
    try:
        from playwright import sync_api
    except ImportError:
        _missing("the playwright package is not installed (pip install -e '.[dev]')")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    app_python = _app_python()
    if app_python is None:
        _missing("Gradio is not installed (pip install 'srgan_keras[app]', or set "
                 "SRGAN_APP_PYTHON to a Python that has it)")

    dn = with_wdn_twin(tiny_model_path, tmp_path / "models")  # shows the denoise slider
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    blocked, server_log = tmp_path / "blocked.log", tmp_path / "server.log"
    blocked.write_text("")
    server_tmp = tmp_path / "tmp"  # the page's job folders go here (its TMPDIR)
    server_tmp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "TMPDIR": str(server_tmp)}
    with open(server_log, "w") as out:
        proc = subprocess.Popen(
            [app_python, str(REPO / "tests" / "offline_guard.py"), str(blocked), "srgan_keras.app",
             "--port", str(port), "--model", str(tiny_model_path), "--model", str(dn),
             "--tile", "32"],
            stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    try:
        _wait_for_page(url, proc, server_log)
        for _ in range(100):  # the line comes as launch() returns, maybe just after the page
            console = server_log.read_text()
            if f"the page is at {url}" in console:
                break
            time.sleep(0.1)
        assert f"the page is at {url}" in console, console  # our one line, and no offer of a
        assert "share=True" not in console, console  # public link the page never makes (28.5)
        requests: list[str] = []
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch_persistent_context(  # a fresh --user-data-dir
                str(tmp_path / "chromium"), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                viewport={"width": 1200, "height": 820})
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="networkidle")
            assert page.title() == "srgan_keras: upscale an image"

            # a model with a weak-denoise twin shows the slider, the tiny model (its file name
            # is the label) hides it; then drop the image
            denoise = page.locator("#denoise")
            page.click("#model input")
            page.get_by_role("option", name="dn_x4.keras").click()
            denoise.wait_for(state="visible", timeout=10_000)
            page.click("#model input")
            page.get_by_role("option", name="tiny_x4.keras").click()
            denoise.wait_for(state="hidden", timeout=10_000)
            page.set_input_files("#input-image input[type=file]", str(photo))
            page.wait_for_selector("#input-image img", timeout=30_000)
            page.click("#upscale")
            page.wait_for_selector("#download a", timeout=120_000)
            summary = page.inner_text("#summary")
            assert summary.startswith("32x24 -> 128x96 with tiny_x4.keras in "), summary

            slider = page.locator("#compare img")
            sizes = [slider.nth(i).evaluate("e => [e.naturalWidth, e.naturalHeight]")
                     for i in range(slider.count())]
            assert sizes == [[128, 96], [128, 96]], sizes  # before and after, same size

            href = page.get_attribute("#download a", "href")
            assert href.endswith("/photo_x4.png"), href
            data = page.request.get(href).body()
            with Image.open(io.BytesIO(data)) as im:
                assert im.size == (128, 96)
                got = np.asarray(im.convert("RGB"))
            assert_metadata_kept(photo, io.BytesIO(data))  # the original upload was used

            # the output controls (issue 28.5): scale 2, JPEG at quality 80, colour fix; the
            # summary names the command for the same settings, run below for the same file
            page.fill("#outscale input", "2")
            page.click("#format input")
            page.get_by_role("option", name="JPEG").click()
            page.fill("#quality input[type=number]", "80")
            page.press("#quality input[type=number]", "Enter")
            page.check("#color-fix input")
            page.click("#upscale")
            page.locator("#download a[href$='/photo_x2.jpg']").wait_for(timeout=120_000)
            summary = page.inner_text("#summary")
            assert summary.startswith("32x24 -> 64x48 with tiny_x4.keras in "), summary
            again = shlex.split(summary.split("The same from a terminal: ", 1)[1].strip())
            assert again[:4] == ["python", "-m", "srgan_keras.upscale", "photo.png"], again
            assert {"--outscale", "2", "--format", "jpg", "--quality", "80", "--color-fix"} <= \
                set(again), again
            jpeg = page.request.get(page.get_attribute("#download a", "href")).body()

            # several images at once: a line per file (a bad one too) and a zip of the results,
            # each the file one upload with the same settings gives
            other = tmp_path / "other.png"
            Image.open(photo).convert("L").save(other)
            notes = tmp_path / "notes.png"
            notes.write_text("not an image")
            page.get_by_role("tab", name="Several images").click()
            page.set_input_files("#batch-input input[type=file]", [str(photo), str(other),
                                                                   str(notes)])
            page.locator("#batch-input td.filename[aria-label='notes.png']").wait_for(
                timeout=30_000)  # uploaded
            page.click("#upscale-batch")
            page.locator("#batch-zip a[href$='/upscaled.zip']").wait_for(timeout=120_000)
            batch = page.inner_text("#batch-summary")
            assert batch.startswith("2 upscaled, 1 failed"), batch
            assert "failed: notes.png: not an image file" in batch, batch
            zipped = page.request.get(page.get_attribute("#batch-zip a", "href")).body()
            with zipfile.ZipFile(io.BytesIO(zipped)) as z:
                assert z.namelist() == ["photo_x2.jpg", "other_x2.jpg"]
                assert z.read("photo_x2.jpg") == jpeg
            compare = page.locator("#batch-compare img")
            compare.first.wait_for(timeout=30_000)
            sizes = [compare.nth(i).evaluate("e => [e.naturalWidth, e.naturalHeight]")
                     for i in range(compare.count())]
            assert sizes == [[64, 48], [64, 48]], sizes

            # a short video, if the [video] extra is here (the app's Python has it in CI)
            if importlib.util.find_spec("imageio_ffmpeg") is not None:
                from test_video import audio_pcm, make_clip

                clip = make_clip(tmp_path / "clip.mp4", seconds=0.4)
                page.get_by_role("tab", name="Video").click()
                page.set_input_files("#video-input input[type=file]", str(clip))
                page.locator("#video-input td.filename[aria-label='clip.mp4']").wait_for(
                    timeout=30_000)
                page.click("#upscale-video")
                page.locator("#video-download a[href$='/clip_x2.mp4']").wait_for(timeout=180_000)
                assert "-> 64x48, 12 frames, with its audio" in page.inner_text("#video-summary")
                upscaled = tmp_path / "clip_x2.mp4"
                upscaled.write_bytes(page.request.get(
                    page.get_attribute("#video-download a", "href")).body())
                assert audio_pcm(upscaled) == audio_pcm(clip)
            page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
            if os.environ.get("SRGAN_APP_SCREENSHOT"):
                shutil.copy(tmp_path / "page.png", os.environ["SRGAN_APP_SCREENSHOT"])
            browser.close()

        from srgan_keras.inference.runners import load_generator
        from srgan_keras.inference.tiling import upscale_image

        # the downloaded file is the model's output, in the page's precision (auto: bfloat16 on
        # a CPU that has it); computed in another process, so within a grey level
        runner = load_generator(tiny_model_path, precision="auto")
        want = upscale_image(np.asarray(Image.open(photo)), runner, tile=32)
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
        # the command the page showed writes the file the page served, byte for byte
        from srgan_keras.inference import upscale

        cli_out = tmp_path / "cli"
        assert upscale.main([str(photo), *again[4:], "-o", str(cli_out), "-q"]) == 0
        assert (cli_out / "photo_x2.jpg").read_bytes() == jpeg
        outside = [u for u in requests if not u.startswith(f"http://127.0.0.1:{port}/")]
        assert outside == [], outside  # the page loads nothing (fonts, scripts) from elsewhere
        assert blocked.read_text() == "", blocked.read_text()  # nor does the server
    finally:
        proc.terminate()
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            rc = None
    assert rc == 0, server_log.read_text()[-3000:]  # SIGTERM shuts the server down cleanly
    assert list(server_tmp.glob("srgan_keras_app_*")) == []  # and its job folders are gone


@pytest.mark.slow  # builds the page in the app's Python (a subprocess)
def test_without_ffmpeg_the_video_tab_is_one_line_instead_of_an_upload():
    app_python = _app_python()
    if app_python is None:
        _missing("Gradio is not installed (pip install 'srgan_keras[app]')")
    code = (
        "import sys\n"
        "{missing}\n"
        "from srgan_keras.inference import webapp, web_upscale as w\n"
        "jobs = w.JobFolders()\n"
        "config = webapp.build_ui(['bicubic'], 'auto', jobs).get_config_file()\n"
        "jobs.close()\n"
        "for c in config['components']:\n"
        "    p = c.get('props', {{}})\n"
        "    if 'video' in (p.get('elem_id') or ''):\n"
        "        print(c['type'], p['elem_id'], p.get('value') if c['type'] == 'markdown' else '')\n")
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    shown = {}
    for missing in ("sys.modules['imageio_ffmpeg'] = None", "pass"):
        proc = subprocess.run([app_python, "-c", code.format(missing=missing)], env=env,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        shown[missing] = proc.stdout.splitlines()
    missing_line = ("markdown video-missing Videos need ffmpeg, which is not installed: "
                    "pip install 'srgan_keras[video]'")
    assert shown["sys.modules['imageio_ffmpeg'] = None"] == [missing_line]
    has_video = subprocess.run([app_python, "-c", "import imageio_ffmpeg"]).returncode == 0
    if has_video:  # the [video] extra in the app's Python: the upload, its button and results
        assert [ln.split()[1] for ln in shown["pass"]] == [
            "video-input", "upscale-video", "video-download", "video-summary"]
