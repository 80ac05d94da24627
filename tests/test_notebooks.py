"""The course in notebooks/: its sources, the honesty of its prose, and a clean run of every notebook.

* Each notebook's source is a jupytext percent-format ``.py`` file; the committed ``.ipynb`` must hold
  exactly its cells (``python notebooks/_run.py`` writes it), so the two cannot drift.
* A number in a markdown cell that states a measurement (a decimal with two or more places, or any
  number with a unit: dB, s, ms, %, steps, MB ...) must be printed by one of the notebook's outputs,
  or be a value the course cites from a paper or a file (``_course.CITED``, with its source). Prose
  whose numbers depend on a run is written by ``say(f"...")`` in a code cell, so it is an output.
  Checked on the committed notebooks and again on each notebook executed with SRGAN_FAST=1. Not
  checked: code, LaTeX, links, the "⏱ *...*" run-time estimates and the exercises with their solutions.
* Every local link in a markdown cell and in notebooks/README.md points to a file of the repository
  (the anchor after ``#`` is not checked).
* Every notebook executes top to bottom with SRGAN_FAST=1 from a clean copy in a temporary folder (the
  committed files are never rewritten); a cell error fails the test. Run folders of the training cells
  go to one temporary folder shared by the session, so notebooks 05-07 reuse 04's models when the
  notebooks run in order. Deselect with ``-m "not notebooks"``.
* A demonstration that must keep showing its point has its printed result checked (``KEY_RESULTS``),
  on the committed notebook and again on the fast-mode run.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("[0-9]*.ipynb"))
SOURCES = sorted(NB_DIR.glob("[0-9][0-9]_*.py"))
DATA = ROOT.parent / "shared" / "data"
CELL_TIMEOUT = 600  # seconds; generous for a loaded 2-core CI machine

sys.path.insert(0, str(NB_DIR))
from _course import CITED  # noqa: E402

UNIT = (r"(?:dB|ms|s|%|MB|MiB|GiB|minutes?|hours?|days?|grey levels"
        r"|(?:GAN |SRResNet |demo |training )?steps)")
CLAIM = re.compile(r"(?<![\w.,^/-])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w.]*\d)"
                   r"(?:\s*(" + UNIT + r")(?![\w/]))?")
CONTEXT = re.compile(r"(§|Eqs?\.|Table|Fig\.|Figs\.|Sec\.|x|10\^)\s*$")  # section, equation, factor refs
SKIP_BLOCK = re.compile(r"```.*?```|`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\(\.\./[^)]*\)|\([^)]*\.ipynb\)", re.S)


def outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for o in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if o.get("output_type") == "stream":
                parts.append(o.get("text", ""))
            for key in ("text/plain", "text/markdown"):
                if key in o.get("data", {}):
                    parts.append(o["data"][key])
    return "\n".join(parts)


def claims(markdown: str) -> list[tuple[str, str]]:
    """(number as written, normalised) of every measured-looking number in a markdown cell."""
    text = SKIP_BLOCK.sub(" ", markdown)  # code, LaTeX and links are not claims
    text = re.sub(r"### Exercises.*", " ", text, flags=re.S)  # exercises and their worked solutions
    text = re.sub(r"⏱\s*\*.*?\*", " ", text, flags=re.S)  # run-time estimates: guidance, not results
    found = []
    for m in CLAIM.finditer(text):
        whole, frac, unit = m.group(1), m.group(2) or "", m.group(3)
        if CONTEXT.search(text[:m.start()]):
            continue
        if not unit and len(frac) < 3:  # a plain integer or one decimal without a unit: not a measurement
            continue
        found.append((m.group(0).strip(), whole.replace(",", "") + frac))
    return found


def unsupported(nb) -> list[str]:
    """The prose numbers of ``nb`` that neither an output prints nor ``CITED`` lists."""
    out = outputs_text(nb)
    out_numbers = {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", out)}
    bad = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        for written, number in claims(cell.source):
            if number not in out_numbers and number not in CITED:
                bad.append(f"cell {i}: {written!r}")
    return bad


def test_every_notebook_has_its_source():
    assert [p.stem for p in NOTEBOOKS] == [p.stem for p in SOURCES]


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_ipynb_cells_equal_the_py_source(source: Path):
    jupytext = pytest.importorskip("jupytext")
    fresh = jupytext.read(source)
    committed = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    cells = [(c.cell_type, c.source) for c in committed.cells]
    assert cells == [(c.cell_type, c.source) for c in fresh.cells], (
        f"{source.with_suffix('.ipynb').name} differs from {source.name}: run python notebooks/_run.py")


def test_the_prose_check_catches_a_contradiction():
    """00's old contradiction: the prose says 26.63 dB while the output prints 26.65."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("The butterfly scores 26.63 dB, 1.8 s per step, 40 GAN steps; §3.2, "
                                      "Eq. 2."),
        nbformat.v4.new_code_cell("print(...)", outputs=[nbformat.v4.new_output(
            "stream", name="stdout", text="butterfly 26.65 dB; 0.62 s per step; gan_steps 50")])])
    assert unsupported(nb) == ["cell 0: '26.63 dB'", "cell 0: '1.8 s'", "cell 0: '40 GAN steps'"]
    nb.cells[1].outputs[0]["text"] = "butterfly 26.63 dB; 1.80 s; 1.8 s per step; 40"
    assert unsupported(nb) == []


LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # [text](target "title")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.S)


def broken_links(markdown: str, base: Path) -> list[str]:
    """The local targets of ``markdown``'s links (relative to ``base``) that do not exist; web addresses,
    mail links and the anchor after ``#`` are not checked, nor links shown as code."""
    bad = []
    for target in LINK.findall(CODE.sub(" ", markdown)):
        if re.match(r"[a-zA-Z][\w+.-]*:", target):  # https:, mailto: ...
            continue
        path = target.split("#", 1)[0]
        if path and not (base / path).exists():
            bad.append(target)
    return bad


def test_the_link_check_catches_a_missing_file():
    md = ("See [08](08_esrgan_and_realesrgan.ipynb), [09](09_realesrgan.ipynb#4), [card](../saved_models/"
          "MODEL_CARD.md), [web](https://example.org/x.md), [here](#exercises), `[code](nowhere.md)`.")
    assert broken_links(md, NB_DIR) == ["08_esrgan_and_realesrgan.ipynb"]


@pytest.mark.parametrize("page", NOTEBOOKS + [NB_DIR / "README.md"], ids=lambda p: p.stem)
def test_local_links_point_to_files_that_exist(page: Path):
    if page.suffix == ".ipynb":
        cells = nbformat.read(page, as_version=4).cells
        texts = [c.source for c in cells if c.cell_type == "markdown"]
    else:
        texts = [page.read_text(encoding="utf-8")]
    bad = [t for text in texts for t in broken_links(text, page.parent)]
    assert bad == [], f"{page.name} links to files that do not exist: {bad}"


# The committed notebooks carry their outputs; photo figures embedded as PNG made 00 4.1 MB. Our limit:
# small enough to clone quickly and to render on GitHub (_course.figure_jpeg keeps figures under it).
MAX_NOTEBOOK_BYTES = 1_200_000


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebook_is_small(notebook: Path):
    size = notebook.stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, (
        f"{notebook.name} is {size / 1e6:.1f} MB: show photo figures with _course.show_panels/show_figure "
        "(JPEG), not plt.show()")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_prose_numbers_come_from_outputs(notebook: Path):
    assert unsupported(nbformat.read(notebook, as_version=4)) == []


# A notebook's demonstration, checked on the line it prints: (pattern whose groups are numbers, the
# condition they must meet, the point the demonstration makes). Thresholds leave room for the fast mode.
KEY_RESULTS = {
    "03_losses": [
        (r"within 0\.25 of a mode: data [\d.]+, MSE ([\d.]+), GAN ([\d.]+)",
         lambda mse, gan: mse < 0.1 and gan > 0.6,
         "MSE answers between the modes of p(x|y), MSE + adversarial on them"),
        (r"texture amplitude \(std of SR - nearest LR\): HR ([\d.]+), MSE ([\d.]+), GAN ([\d.]+)",
         lambda hr, mse, gan: mse < 0.25 * hr and gan > 0.6 * hr,
         "MSE averages the stripes' phases away, MSE + adversarial draws stripes"),
    ],
}


def missed_points(stem: str, nb) -> list[str]:
    """The points of ``KEY_RESULTS[stem]`` that ``nb``'s outputs do not show (or do not print)."""
    out = outputs_text(nb)
    missed = []
    for pattern, holds, point in KEY_RESULTS.get(stem, []):
        m = re.search(pattern, out)
        if m is None:
            missed.append(f"{point}: its line is not printed")
        elif not holds(*(float(g) for g in m.groups())):
            missed.append(f"{point}: not shown by {m.group(0)!r}")
    return missed


def test_the_key_result_check_catches_a_lost_point():
    out = ("mode check | within 0.25 of a mode: data 1.000, MSE 0.000, GAN 0.970 | ...\n"
           "texture check | texture amplitude (std of SR - nearest LR): HR 0.354, MSE 0.030, GAN 0.340\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("", outputs=[
        nbformat.v4.new_output("stream", name="stdout", text=out)])])
    assert missed_points("03_losses", nb) == []
    nb.cells[0].outputs[0]["text"] = out.replace("GAN 0.970", "GAN 0.020")  # the GAN collapsed to the mean
    assert len(missed_points("03_losses", nb)) == 1
    nb.cells[0].outputs[0]["text"] = ""
    assert len(missed_points("03_losses", nb)) == 2


@pytest.mark.parametrize("stem", sorted(KEY_RESULTS))
def test_committed_demonstrations_show_their_point(stem: str):
    assert missed_points(stem, nbformat.read(NB_DIR / f"{stem}.ipynb", as_version=4)) == []


@pytest.fixture(scope="session")
def course_runs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("course_runs")


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(notebook: Path, tmp_path: Path, course_runs: Path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    if not (DATA / "Set5").is_dir():
        pytest.skip("the course reads ../shared/data (Set5, Set14) beside the checkout")
    copy = tmp_path / notebook.name
    shutil.copyfile(notebook, copy)
    nb = nbformat.read(copy, as_version=4)
    monkeypatch.setenv("SRGAN_FAST", "1")  # the kernel inherits the environment
    monkeypatch.setenv("SRGAN_HEADLESS", "1")  # widgets give way to their static fallbacks
    monkeypatch.setenv("SRGAN_COURSE_RUNS", str(course_runs))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    # the package under test, also when it is not pip-installed, and the course's _course.py
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), str(NB_DIR),
                                                                    os.environ.get("PYTHONPATH")])))
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, naming the cell, on the first error
    assert unsupported(nb) == [], "a prose number is not printed by this fast-mode run"
    assert missed_points(notebook.stem, nb) == [], "the demonstration no longer shows its point"
