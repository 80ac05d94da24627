"""``python -m srgan_keras.convert``: the published ESRGAN / Real-ESRGAN PyTorch weights as .keras.

    python -m srgan_keras.convert RealESRGAN_x4plus.pth -o realesrgan_x4plus.keras
    python -m srgan_keras.convert realesr-general-x4v3.pth -o realesr-general-x4v3.keras
    python -m srgan_keras.convert RRDB_ESRGAN_x4.pth -o esrgan_x4.keras

The file is read through the restricted unpickler of :mod:`srgan_keras.data.torch_pickle` (zip or
legacy format; no torch needed, no code run; ``params_ema`` preferred over ``params``); its
architecture is recognised and its weights copied into our networks by
:mod:`srgan_keras.nn.torch_weights`, which the model zoo (:mod:`srgan_keras.inference.zoo`) uses too.
"""

from __future__ import annotations

import argparse
import sys

from srgan_keras.data.torch_pickle import load_state_dict
from srgan_keras.errors import command
from srgan_keras.nn.torch_weights import detect_architecture, strip_data_parallel
from srgan_keras.startup import add_verbose_flag


@command  # an unsafe or unreadable file, an unknown architecture, an output in the way: 2
def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m srgan_keras.convert",
        description="Convert a published ESRGAN / Real-ESRGAN .pth (RRDBNet or SRVGGNetCompact; "
                    "zip or legacy format; params_ema or params) to a Keras .keras generator "
                    "(input and output in [0, 1]). No torch needed, no code from the file run.")
    add_verbose_flag(p)
    p.add_argument("pth", help="PyTorch checkpoint, e.g. realesr-general-x4v3.pth")
    p.add_argument("-o", "--output", required=True, help="the .keras file to write")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output file (never the .pth itself)")
    p.add_argument("--key", default=None,
                   help="entry of the checkpoint holding the weights (default: params_ema, "
                        "else params, else the file itself)")
    a = p.parse_args(argv)
    if not a.output.endswith(".keras"):
        print(f"error: -o {a.output}: the output must end in .keras", file=sys.stderr)
        return 2
    from srgan_keras.data.files import atomic_write, check_output, write_failure

    check_output(a.output, a.overwrite, inputs=[a.pth])  # before minutes of conversion
    sd = strip_data_parallel(load_state_dict(a.pth, a.key))
    arch = detect_architecture(sd)
    what = arch.describe(sd)
    model = arch.convert(sd)
    try:  # no-clobber again at the rename: an OutputExistsError is the decorator's line
        atomic_write(a.output, model.save, overwrite=a.overwrite)
    except OSError as e:  # a full disk, a read-only folder: the temporary is already removed
        line = write_failure(a.output, e)
        if line is None:
            raise
        print(f"error: {line}", file=sys.stderr)
        return 2
    print(f"{a.pth} -> {a.output}: {arch.name}, {what}, {model.count_params():,} parameters")
    return 0
