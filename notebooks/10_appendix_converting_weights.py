# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Appendix · Converting published weights safely
#
# The official ESRGAN and Real-ESRGAN weights are PyTorch `.pth` files. This appendix shows why loading one
# with `pickle` is dangerous, how the library's restricted unpickler refuses a hostile file, and how the
# converter maps PyTorch's names and layouts onto the Keras RRDBNet of notebook 08, checked by a round trip.

# %%
from pathlib import Path

import numpy as np

from _course import setup

setup()

# %%
import inspect

import keras

# %% [markdown]
# ## Published weights: the converter, and a pickle that must not load
#
# The official ESRGAN and Real-ESRGAN weights are PyTorch `.pth` files: a zip holding a **pickle** plus raw
# tensor bytes. `pickle.load` executes whatever the pickle names — a file from the internet can run any
# command on your machine as it loads. `python -m srgan_keras.convert` therefore never unpickles freely: a
# restricted unpickler resolves only what a state dict needs and refuses everything else.
# %%
from srgan_keras.data import torch_pickle
from srgan_keras.export import convert
from srgan_keras.nn import rrdbnet, torch_weights

print(inspect.getsource(torch_pickle.StateDictUnpickler.find_class))

# %% [markdown]
# We craft a malicious checkpoint the way an attacker would: an object whose `__reduce__` tells pickle "to
# rebuild me, call `os.system(command)`", hidden inside what looks like BasicSR's `{"params": ...}`. The
# command would only `touch` a marker file in a scratch folder, and it is **never run**: pickling records the
# call without making it, and we load the file only through the library. On Linux `os.system` is
# `posix.system`, which is the name pickle records.

# %%
import collections
import contextlib
import io
import os
import pickle
import pickletools
import tempfile
import zipfile


class Payload:
    """Unpickling this calls os.system(command): what pickle.load would do with a hostile file."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))

scratch = Path(tempfile.mkdtemp(prefix="srgan_convert_"))  # never printed: a machine path
marker = scratch / "pwned"
data = pickle.dumps(collections.OrderedDict(params=Payload(f"touch {marker}")), protocol=2)
print("the pickle's program:", " ".join(f"{op.name} {arg!r}" if op.name == "GLOBAL" else op.name
                                      for op, arg, _ in pickletools.genops(data)))

evil = scratch / "RealESRGAN_x4plus.pth"  # a torch zip file: NAME/data.pkl, NAME/byteorder
with zipfile.ZipFile(evil, "w") as z:
    z.writestr("archive/data.pkl", data)
    z.writestr("archive/byteorder", "little")
try:
    torch_pickle.load_torch_file(evil)
except torch_pickle.UnsafePickleError as e:
    print("refused:", str(e).replace(str(scratch), "<scratch>"))
err = io.StringIO()
with contextlib.redirect_stderr(err):
    rc = convert.main([str(evil), "-o", str(scratch / "out.keras")])
print(f"the CLI: exit code {rc};", err.getvalue().strip().replace(str(scratch), "<scratch>"))
print("did the command run?", marker.exists(), "| was a model written?", (scratch / "out.keras").exists())

# %% [markdown]
# A real checkpoint passes: its pickle names only `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`
# and storage types, and the tensors come from the zip's raw bytes. The converter then maps names
# (`body.3.rdb2.conv5.weight` → layer `body_3_rdb2_conv5`) and layouts: PyTorch kernels are (out, in, kh, kw),
# Keras' (kh, kw, in, out); and for x2/x1 models the input channels of `conv_first` are permuted, because
# PyTorch's pixel-unshuffle orders its channels colour-major and TensorFlow's offset-major:

# %%
print(inspect.getsource(torch_weights.unshuffle_permutation))
print("x2 (r = 2): TensorFlow channel k holds PyTorch channel", torch_weights.unshuffle_permutation(2))

# %% [markdown]
# Without torch or the published files, we check the mapping by a round trip: a small random x2 RRDBNet is
# written out as the state dict BasicSR would have (PyTorch names, PyTorch layouts), converted back by the
# library, and both models are run on the same input.

# %%
import re


def basicsr_state_dict(model: keras.Model, scale: int) -> dict:
    """A Keras RRDBNet's weights as BasicSR's state dict: the converter's mapping, reversed."""
    r = rrdbnet.UNSHUFFLE[scale]  # pixel-unshuffle factor of the input: 2 at x2
    sd = {}
    for layer in model.layers:
        if not layer.weights:
            continue
        kernel, bias = layer.get_weights()
        torch_name = re.sub(r"^body_(\d+)_rdb(\d)_conv(\d)$", r"body.\1.rdb\2.conv\3", layer.name)
        w = kernel.transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        if layer.name == "conv_first" and r > 1:
            w = w.copy()
            w[:, torch_weights.unshuffle_permutation(r)] = kernel.transpose(3, 2, 0, 1)  # undo the permutation
        sd[f"{torch_name}.weight"], sd[f"{torch_name}.bias"] = w, bias
    return sd

keras.utils.set_random_seed(1)
small = rrdbnet.build_rrdbnet(scale=2, num_feat=16, num_block=2, num_grow_ch=8)  # random weights
sd = basicsr_state_dict(small, scale=2)
print(f"{len(sd)} tensors, e.g.", {k: sd[k].shape for k in list(sd)[:3]})
back = torch_weights.convert_state_dict(sd)
x = np.random.default_rng(0).random((1, 24, 40, 3), dtype=np.float32)
print(f"read back as RRDBNet {torch_weights.rrdbnet_shape(sd)}; max |difference| of the outputs: "
      f"{np.abs(np.asarray(small(x)) - np.asarray(back(x))).max():.2g}")

# %% [markdown]
# With a real file: `python -m srgan_keras.convert RealESRGAN_x4plus.pth -o realesrgan_x4plus.keras`, then
# `python -m srgan_keras.upscale photo.jpg --model realesrgan_x4plus.keras -o out/`. The test suite checks the
# converter against PyTorch itself (max difference < 1e-4) when torch is installed.

# %%
import shutil

shutil.rmtree(scratch)  # the crafted files were temporary

# %% [markdown]
# ### Exercises
#
# 1. *(recall)* Which global names does a real state dict's pickle need, and why is anything else
#    refused?
# 2. *(understand)* Why does `conv_first` of an x2 model need its input channels permuted, and not the other
#    layers?
# 3. *(apply)* Add a tensor of an unknown name to `sd` before `convert_state_dict`: what does the converter say?
#
# <details><summary>Solutions (click to open)</summary>
#
# 1. `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2` (or `_rebuild_parameter`) and the storage
#    types (dtypes only): that is all a state dict is; any other name (e.g. `posix.system`) could run code at load time.
# 2. Only `conv_first` sees the pixel-unshuffled input, whose channel order differs between PyTorch
#    (colour-major) and TensorFlow (offset-major); every later layer sees features both frameworks order alike.
# 3. It refuses the state dict with one sentence naming the tensor (`extra.weight: RRDBNet has no layer
#    extra; is this a different architecture?`), and converts nothing.
#
# </details>
#
# Back to the [list of notebooks](README.md).
