"""Leaving Keras: SavedModel, TFLite and ONNX export with parity checks, and ``.pth`` conversion.

- :mod:`.export`: the export command (``python -m srgan_keras.export``): export, check, publish.
- :mod:`.generator`: the generator an export starts from (found, loaded, checked), its output in
  [0, 1], and :class:`~.generator.ExportError`.
- :mod:`.formats`: the SavedModel, TFLite (float32, float16, dynamic, int8) and ONNX writers, each
  staged beside its destination.
- :mod:`.images`: the photos an export reads: int8 calibration crops and parity-check images.
- :mod:`.parity`: the parity report (exported against Keras output, size, latency).
- :mod:`.convert`: BasicSR / Real-ESRGAN ``.pth`` weights into RRDBNet (ESRGAN §3.1), read by
  :mod:`srgan_keras.data.torch_pickle` (the restricted unpickler: no code runs).
"""
