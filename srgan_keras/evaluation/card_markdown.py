"""The model card's markdown: the tables ``model_card`` prints and puts between the card's markers.

One row per model (bicubic first) with PSNR-Y / SSIM-Y per folder, the ``--artifacts`` rows and
the ``--jpeg-example`` rows; :func:`update_card` replaces only the text between
``<!-- evaluation:begin -->`` and ``<!-- evaluation:end -->`` of ``MODEL_CARD.md``, the prose
around it being the author's.
"""

from __future__ import annotations

from pathlib import Path

from srgan_keras.evaluation.jpeg_example import JPEG_EXAMPLE_QUALITY, JPEG_EXAMPLE_SIZE

BEGIN, END = "<!-- evaluation:begin -->", "<!-- evaluation:end -->"


def table(metrics: dict) -> str:
    """Markdown: one row per model (bicubic first), PSNR-Y / SSIM-Y per folder."""
    names = list(metrics["datasets"])
    head = "| model | file size | " + " | ".join(f"{n} PSNR-Y / SSIM-Y" for n in names) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in names) + " |"

    def cells(results: dict) -> str:
        return " | ".join(f"{results[n]['psnr_y']:.2f} dB / {results[n]['ssim_y']:.4f}"
                          if n in results else "-" for n in names)

    rows = [f"| bicubic | - | {cells(metrics['bicubic'])} |"]
    for name, m in metrics["models"].items():
        rows.append(f"| `{name}` | {m['bytes'] / 2**20:.2f} MiB | {cells(m['results'])} |")
    counts = ", ".join(f"{n} {d['images']} images" for n, d in metrics["datasets"].items())
    notes = [f"x{_scale(metrics)}; {counts}. {metrics['protocol']}."]
    if "degraded_protocol" in metrics:
        notes.append(f"Columns `<set> <preset>/<seed>`: {metrics['degraded_protocol']}.")
    return "\n".join([head, rule, *rows, "", *notes, *_artifact_table(metrics),
                      *_perception_table(metrics), *_jpeg_table(metrics.get("jpeg_examples"))])


def _artifact_table(metrics: dict) -> list[str]:
    """The ``--artifacts`` rows: pattern / lr_grid per folder, the HR images' own first."""
    hr = metrics.get("hr_artifacts")
    if not hr:
        return []
    names = list(hr)
    head = "| model | " + " | ".join(f"{n}: pattern / lr_grid" for n in names) + " |"

    def cells(results: dict) -> str:
        return " | ".join(f"{results[n]['pattern']:.2f} / {results[n]['lr_grid']:.2f}"
                          if "pattern" in results.get(n, {}) else "-" for n in names)

    rows = [f"| HR images | {cells(hr)} |", f"| bicubic | {cells(metrics['bicubic'])} |"]
    rows += [f"| `{name}` | {cells(m['results'])} |" for name, m in metrics["models"].items()]
    return ["", head, "| --- | " + " | ".join("---" for _ in names) + " |", *rows, "",
            "Artifacts (`evaluate --artifacts`, `srgan_keras.evaluation.metrics`): pattern = how "
            "strongly one fixed scale x scale tile repeats over the output (the pixel-shuffle "
            "checkerboard); lr_grid = Y steps across the LR-pixel boundaries over those inside "
            "(an uncorrected nearest-neighbour base); about 1 = none, the HR images' own first."]


def _perception_table(metrics: dict) -> list[str]:
    """The ``--niqe`` rows: NIQE / hf_ratio per folder (hf_ratio with ``--artifacts``), the HR
    images' own first when measured."""
    names = [n for n in metrics["datasets"]
             if any(m["results"].get(n, {}).get("niqe") is not None for m in metrics["models"].values())]
    if not names:
        return []
    head = "| model | " + " | ".join(f"{n}: NIQE / hf_ratio" for n in names) + " |"

    def cells(results: dict) -> str:
        def cell(r: dict) -> str:
            niqe = "-" if r.get("niqe") is None else f"{r['niqe']:.2f}"
            return niqe + ("" if r.get("hf_ratio") is None else f" / {r['hf_ratio']:.2f}")
        return " | ".join(cell(results.get(n, {})) for n in names)

    hr = metrics.get("hr_artifacts") or {}
    rows = [f"| HR images | {cells(hr)} |"] if any("niqe" in hr.get(n, {}) for n in names) else []
    rows += [f"| bicubic | {cells(metrics['bicubic'])} |"]
    rows += [f"| `{name}` | {cells(m['results'])} |" for name, m in metrics["models"].items()]
    return ["", head, "| --- | " + " | ".join("---" for _ in names) + " |", *rows, "",
            "Perception (`evaluate --niqe --artifacts`): NIQE (Mittal et al. 2013, no reference; lower "
            "= closer to the statistics of natural photos; blur and grids both raise it); hf_ratio = "
            "the mean absolute second difference of Y along rows and columns in the output over "
            "that in HR (1 = as much fine texture as HR; below 1 = smoother; "
            "`srgan_keras.evaluation.metrics.hf_ratio`)."]


def _jpeg_table(examples: list[dict] | None) -> list[str]:
    """The ``--jpeg-example`` rows: blockiness and PSNR-Y / SSIM-Y per photo and model."""
    if not examples:
        return []
    head = "| model | " + " | ".join(f"{e['photo']}: blockiness, PSNR-Y / SSIM-Y" for e in examples) + " |"
    rule = "| --- | " + " | ".join("---" for _ in examples) + " |"
    rows = ["| JPEG input | " + " | ".join(f"{e['input_blockiness']:.3f}" for e in examples) + " |"]
    for key in examples[0]["results"]:
        cells = " | ".join(f"{r['blockiness']:.3f}, {r['psnr_y']:.2f} dB / {r['ssim_y']:.4f}"
                           for r in (e["results"][key] for e in examples))
        rows.append(f"| {key if key == 'bicubic' else f'`{key}`'} | {cells} |")
    w, h = JPEG_EXAMPLE_SIZE
    note = (f"`--jpeg-example`: each photo shrunk (Lanczos) to {w}x{h}, saved as JPEG quality "
            f"{JPEG_EXAMPLE_QUALITY}, upscaled as `python -m srgan_keras.upscale` does; PSNR/SSIM on "
            "Y against the photo resized (Lanczos) to the output's size, 4 px shaved; blockiness = "
            "mean |Y step| across the 8x8 JPEG blocks' edges (32 px apart after x4) over that across "
            "their middles (`srgan_keras.evaluation.metrics.blockiness`; about 1 = no block grid).")
    return ["", head, rule, *rows, "", note]


def _scale(metrics: dict) -> int:
    return next(iter(metrics["models"].values()))["scale"] if metrics["models"] else 4


def card_text(card: Path) -> str:
    text = card.read_text()
    if BEGIN not in text or END not in text or text.index(BEGIN) > text.index(END):
        raise ValueError(f"{card}: no {BEGIN} ... {END} block to fill")
    return text


def update_card(card: Path, block: str) -> None:
    """Replace the text between the evaluation markers of ``card`` (atomically)."""
    from srgan_keras.data.imaging import atomic_write

    text = card_text(card)
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{BEGIN}\n{block}\n{END}{tail}"
    atomic_write(card, lambda tmp: Path(tmp).write_text(new))
