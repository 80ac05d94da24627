"""The web page's settings as the upscale command's arguments: one meaning for each control.

The page does not re-implement what ``--outscale``, ``--width``/``--height``, ``--format``,
``--quality``, ``--color-fix`` and ``--denoise-strength`` do. :class:`Settings` holds what the
page's controls say, :meth:`Settings.flags` writes them as the command's flags, and
:func:`cli_args` parses those with the command's own parser
(:func:`srgan_keras.inference.upscale_args.parse_args`), so a value the command refuses is refused
on the page in the command's one line (``--outscale`` with a ``--width``/``--height`` box, a
quality outside 1-100), and the work that follows is the command's
(:func:`srgan_keras.inference.upscale_plan.plan_images`, :func:`srgan_keras.inference.upscale.
upscale_job`): the page's file is the command's file for the same settings. Each result's summary
ends with the command that makes it again in a terminal (:meth:`Settings.command`).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from srgan_keras.errors import SrganKerasError
from srgan_keras.inference.image_io import DEFAULT_QUALITY

# The format menu: its label on the page -> the command's --format (None: the input's own).
FORMAT_CHOICES = {"Same as the input": None, "PNG": "png", "JPEG": "jpg", "WebP": "webp"}


class AppError(SrganKerasError, ValueError):
    """A request the page cannot serve; shown to the user as one line."""


@dataclass(frozen=True)
class Settings:
    """What the page's controls say, in the command's terms.

    ``denoise``: ``"auto"``, a strength in [0, 1], or None for a model without a weak-denoise
    twin (the command's default, ``auto``, is ignored for those); ``outscale`` or the
    ``width``/``height`` box (None: the model's own scale); ``format``: ``png``, ``jpg``, ``webp``
    or None (the input's); ``tile``: the page's ``--tile`` (checked when the page started, by
    the command's rule), ``"auto"`` or 0 for the whole image.
    """

    model: str
    denoise: float | str | None = None
    outscale: float | None = None
    width: int | None = None
    height: int | None = None
    format: str | None = None
    quality: int = DEFAULT_QUALITY
    color_fix: bool = False
    tile: int | str | None = "auto"

    def flags(self) -> list[str]:
        """The command's flags for these settings (no input, no ``-o``)."""
        out = ["--model", self.model]
        if self.denoise is not None:
            out += ["--denoise-strength", str(self.denoise)]
        if self.outscale is not None:
            x = float(self.outscale)
            out += ["--outscale", str(int(x)) if x.is_integer() else repr(x)]
        if self.width is not None:
            out += ["--width", str(self.width)]
        if self.height is not None:
            out += ["--height", str(self.height)]
        if self.format is not None:
            out += ["--format", self.format]
        if self.quality != DEFAULT_QUALITY:
            out += ["--quality", str(self.quality)]
        if self.color_fix:
            out.append("--color-fix")
        if self.tile != "auto":
            out += ["--tile", str(self.tile or 0)]
        return out

    def command(self, inputs: list[str]) -> str:
        """The terminal command that makes the same files (the inputs by their names)."""
        return shlex.join(["python", "-m", "srgan_keras.upscale", *inputs, *self.flags()])


def number(value: float | int | str | None) -> float | None:
    """A number box's value: None for an empty box (or 0, Gradio's empty number), else a float."""
    if value is None or value == "":
        return None
    v = float(value)
    return None if v == 0 or math.isnan(v) else v


def settings_from_controls(model: str, denoise: float | str | None, outscale, width, height,
                           fmt_label: str, quality, color_fix: bool,
                           tile: int | str | None = "auto") -> Settings:
    """:class:`Settings` from the page's control values; a value no flag could take (a fraction
    of a pixel, a format not in the menu) is one line (:class:`AppError`)."""
    box = []
    for name, v in (("width", width), ("height", height)):
        v = number(v)
        if v is not None and v != int(v):
            raise AppError(f"--{name} {v:g}: a size in pixels is a whole number")
        box.append(None if v is None else int(v))
    if fmt_label not in FORMAT_CHOICES:
        raise AppError(f"unknown output format {fmt_label!r}; choose one of "
                       + ", ".join(FORMAT_CHOICES))
    return Settings(model, denoise, number(outscale), box[0], box[1], FORMAT_CHOICES[fmt_label],
                    int(quality), bool(color_fix), tile)


def cli_args(settings: Settings, inputs: list[str | os.PathLike], out_dir: str | os.PathLike):
    """The command's parsed arguments for ``settings``, ``inputs`` and ``out_dir``, by its own
    parser; its refusal (exit status 2) becomes :class:`AppError` with the same line.

    ``--overwrite``: the page writes into a fresh job folder of its own, where only an earlier
    result of its own can be (:class:`srgan_keras.data.outputs.OutputPlan` replaces no other
    file). The tile is set after parsing: the page's ``--tile`` was checked at its start.
    """
    from srgan_keras.inference.upscale_args import parse_args

    flags = [f for f in settings.flags()]
    if "--tile" in flags:
        i = flags.index("--tile")
        del flags[i:i + 2]
    argv = [*flags, "--overwrite", "-q", "-o", str(out_dir), "--", *map(str, inputs)]
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            args = parse_args(argv)
    except SystemExit:
        lines = [ln for ln in err.getvalue().splitlines() if "error: " in ln]
        why = lines[-1].split("error: ", 1)[1] if lines else "these settings are refused"
        raise AppError(why) from None
    args.tile = settings.tile
    return args


def named(line: str, src: str | os.PathLike) -> str:
    """A line of the command's about an upload, naming the file instead of its temporary path."""
    return line.replace(str(src), Path(src).name)
