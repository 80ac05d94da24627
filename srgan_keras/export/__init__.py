"""Leaving Keras: SavedModel, TFLite and ONNX export with parity checks, and ``.pth`` conversion.

- :mod:`.export`: export a generator and check its outputs against the Keras model.
- :mod:`.convert`: BasicSR / Real-ESRGAN ``.pth`` weights into RRDBNet (ESRGAN §3.1), read by
  :mod:`srgan_keras.data.torch_pickle` (the restricted unpickler: no code runs).
"""
