"""Write the notebooks from their ``.py`` sources and execute them (a course tool, not library code).

    python notebooks/_run.py                  # write every .ipynb from its .py (outputs kept where the
                                              # code is unchanged), execute nothing
    python notebooks/_run.py --execute 04 06  # write, execute (SRGAN_FAST as in the environment), tidy

The ``.py`` files (jupytext's percent format) are the sources; the ``.ipynb`` files are written from
them and committed with their outputs. ``--execute`` runs a notebook in a fresh kernel from the
repository root, then tidies its outputs for GitHub: progress-bar redraws collapse to their last
state and TensorFlow's start-up chatter on stderr is dropped. It prints the wall-clock time.
``--out DIR`` writes the executed copies there instead (the committed files are left alone).
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat

HERE = Path(__file__).resolve().parent

NOISE = re.compile(r"(cuInit|absl::InitializeLog|cudart_stub|oneDNN custom operations|"
                   r"rebuild TensorFlow with the appropriate compiler flags|port\.cc:\d+|"
                   r"cpu_feature_guard|TF-TRT|computation placer|Unable to register cu|"
                   r"Created TensorFlow Lite XNNPACK delegate|^fully_quantize: |"
                   r"meta_optimizer\.cc:\d+\] remapper failed)")


def sources() -> list[Path]:
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def write_ipynb(py: Path) -> Path:
    """The .ipynb of ``py``: its cells from the source, outputs kept for code cells that did not change."""
    path = py.with_suffix(".ipynb")
    fresh = jupytext.read(py)
    if path.exists():
        old = nbformat.read(path, as_version=4)
        outputs = {c.source: c for c in old.cells if c.cell_type == "code"}
        ids = {(c.cell_type, c.source): c.get("id") for c in old.cells}
        for cell in fresh.cells:
            if cell.cell_type == "code" and cell.source in outputs:
                cell.outputs = outputs[cell.source].get("outputs", [])
                cell.execution_count = outputs[cell.source].get("execution_count")
            if ids.get((cell.cell_type, cell.source)):  # an unchanged cell keeps its id (a small diff)
                cell["id"] = ids[(cell.cell_type, cell.source)]
    fresh.metadata.setdefault("language_info", {"name": "python"})
    nbformat.write(fresh, path)
    return path


def _collapse(text: str) -> str:
    """Keep only what a terminal would show after carriage returns (progress bars)."""
    return "\n".join(line.rsplit("\r", 1)[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r")
                     for line in text.split("\n"))


def tidy(nb: nbformat.NotebookNode) -> None:
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        merged = []
        for o in cell.get("outputs", []):  # one output per stream write: join them first
            if (o.get("output_type") == "stream" and merged and merged[-1].get("output_type") == "stream"
                    and merged[-1]["name"] == o["name"]):
                merged[-1]["text"] += o["text"]
            else:
                merged.append(o)
        kept = []
        for o in merged:
            if o.get("output_type") == "stream":
                o["text"] = _collapse(o["text"])
                if o["name"] == "stderr":
                    o["text"] = "\n".join(ln for ln in o["text"].split("\n") if not NOISE.search(ln))
                if not o["text"].strip():
                    continue
            kept.append(o)
        cell["outputs"] = kept


def execute(path: Path, out: Path) -> float:
    from nbclient import NotebookClient

    root = str(HERE.parent)  # the package of this checkout, installed or not, and _course.py
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [root, str(HERE), os.environ.get("PYTHONPATH")]))
    os.environ["SRGAN_HEADLESS"] = "1"  # no one to click: interactive cells show their static fallback
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": str(HERE)}}).execute()
    dt = time.perf_counter() - t0
    tidy(nb)
    nbformat.write(nb, out)
    return dt


def main(argv: list[str]) -> int:
    run = "--execute" in argv
    out_dir = Path(argv[argv.index("--out") + 1]) if "--out" in argv else None
    prefixes = [a for a in argv if not a.startswith("--") and (out_dir is None or a != str(out_dir))]
    for py in sources():
        if prefixes and not any(py.stem.startswith(p) for p in prefixes):
            continue
        path = write_ipynb(py)
        if run:
            if out_dir:
                out_dir.mkdir(parents=True, exist_ok=True)  # before the run, not after it: writing ends it
            target = out_dir / path.name if out_dir else path
            print(f"{py.stem}: executed in {execute(path, target):.0f} s -> {target}", flush=True)
        else:
            print(f"wrote {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
