"""An evaluation report as a table (what the CLI prints) and as CSV (``evaluate --csv``).

The report is the dict :func:`srgan_keras.evaluation.folders.evaluate_folder` (or
``evaluate_no_reference``) returns; its JSON is the dict itself (``evaluate --json``). A model
card keeps a report's means rounded to the keys it shows (:func:`rounded`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from srgan_keras.evaluation.metrics import ARTIFACTS, METRICS


def rounded(mean: dict) -> dict:
    """The card's keys of a mean: PSNR-Y / SSIM-Y, and NIQE and the artifact measures when present."""
    return {k: round(float(mean[k]), 4) for k in ("psnr_y", "ssim_y", "niqe", "pattern", "lr_grid",
                                                  "hf_ratio")
            if mean.get(k) is not None}


def _columns(report: dict) -> tuple[str, ...]:
    if "metric" in report:
        return (report["metric"],)
    return (METRICS + (("niqe",) if report.get("niqe") else ())
            + (ARTIFACTS if report.get("artifacts") else ()))


def _title(report: dict) -> str:
    mode = ""
    if report.get("degrade"):
        mode = f", degraded {report['degrade']['preset']} seed {report['degrade']['seed']}"
    elif report.get("metric") == "niqe":
        mode = ", no reference: NIQE, lower is more natural"
    return (f"{report['model']} on {report['data']} x{report['scale']} "
            f"(border {report['border']}{mode})")


def format_table(report: dict) -> str:
    """Per-image table and mean, with the bicubic row beside the model's."""
    cols = _columns(report)
    head = f"{'image':<16}{'method':<14}" + "".join(f"{c:>10}" for c in cols)
    lines = [_title(report), head, "-" * len(head)]

    def row(name: str, method: str, m: dict) -> str:
        vals = "".join(f"{'-':>10}" if m[c] is None else f"{m[c]:>10.4f}" if c.startswith("ssim")
                       else f"{m[c]:>10.2f}" for c in cols)
        return f"{name[:15]:<16}{method[:13]:<14}{vals}"

    for r in report["images"]:
        if r["bicubic"] is not None:
            lines.append(row(r["image"], "bicubic", r["bicubic"]))
        lines.append(row(r["image"], report["model"], r))
    lines.append("-" * len(head))
    if report["bicubic_mean"] is not None:
        lines.append(row("mean", "bicubic", report["bicubic_mean"]))
    lines.append(row("mean", report["model"], report["mean"]))
    if report.get("hr_artifacts_mean"):
        hr = report["hr_artifacts_mean"]
        own_niqe = f", NIQE {hr['niqe']:.2f}" if hr.get("niqe") is not None else ""
        lines.append(f"the HR images themselves: pattern {hr['pattern']:.2f}, lr_grid "
                     f"{hr['lr_grid']:.2f}{own_niqe} (pattern ~1 and lr_grid ~1: nothing repeats "
                     f"every {report['scale']} px; hf_ratio: fine texture against HR, 1 = as much)")
    if report.get("skipped"):
        n = len(report["skipped"])
        lines.append(f"{n} image{'s' if n > 1 else ''} skipped (not in the means): "
                     + ", ".join(Path(k["image"]).name for k in report["skipped"]))
    return "\n".join(lines)


def to_csv(report: dict) -> str:
    """One row per (image, method), mean rows last; model, data and scale on every row."""
    cols = _columns(report)
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator="\n")
    wr.writerow(["model", "data", "scale", "image", "method", *cols])
    meta = [report["model"], report["data"], report["scale"]]
    for r in report["images"]:
        if r["bicubic"] is not None:
            wr.writerow([*meta, r["image"], "bicubic", *(r["bicubic"][k] for k in cols)])
        wr.writerow([*meta, r["image"], report["model"], *(r[k] for k in cols)])
    if report["bicubic_mean"] is not None:
        wr.writerow([*meta, "mean", "bicubic", *(report["bicubic_mean"][k] for k in cols)])
    wr.writerow([*meta, "mean", report["model"], *(report["mean"][k] for k in cols)])
    return buf.getvalue()
