"""From a photo to its upscaled copy: loading a saved generator or exported file, tiling, the CLI.

- :mod:`.runners`: one runner protocol over ``.keras`` files, bundled models and bicubic;
  :mod:`.exported` adds SavedModel, TFLite and ONNX files; :mod:`.zoo` the published Real-ESRGAN
  and ESRGAN weights by name (checked download into the user cache, converted once);
  :mod:`.converted` a ``.pth`` given by path, converted on first use into the same cache;
  :mod:`.resolve` finds the file a ``--model`` names (bundled, zoo, path); :mod:`.bundled` the
  models shipped in ``saved_models/`` and their names; :mod:`.errors` the ``ModelNotFoundError``.
- :mod:`.litert`: a bundled model's TFLite export on LiteRT, without TensorFlow (``--runtime
  auto``, the CLI's default); :mod:`.tflite_blend` blends two ``.tflite`` files' weights for the
  denoise strength; :mod:`.bicubic` is the bicubic resize in NumPy (baseline, colour fix, alpha).
- :mod:`.precision`: a generator's trunk in bfloat16 where the CPU computes it natively (the
  upscale CLI's ``--precision auto``).
- :mod:`.tiling`: tiles with context padding for images of any size (as Real-ESRGAN's inference
  script does); the tile size chosen from the memory available; :mod:`.memory` tells an
  out-of-memory failure (the one a smaller tile may avoid) from the others.
- :mod:`.degradation_estimate`: a photo's noise and JPEG quality, and the denoise strength they
  call for (``--denoise-strength auto``).
- :mod:`.colorfix`: the wavelet colour fix (StableSR) that keeps the input's low-frequency colour;
  :mod:`.color_shift` measures a generator's colour cast and removes it from its last bias.
- The ``upscale`` command: :mod:`.upscale` runs it (plan, then every image, then every video);
  :mod:`.upscale_args` parses and checks its arguments; :mod:`.inputs` turns its INPUTs (files,
  folders, globs) into files; :mod:`.upscale_plan` checks each from its header and claims its
  output (the shared rules of :mod:`srgan_keras.data.outputs`) before anything is computed;
  :mod:`.image_io` reads an input at full precision and writes an output in its format, with its
  metadata and its format's limits.
- Videos: :mod:`.video` upscales every frame; :mod:`.ffmpeg` drives ffmpeg through pipes (probe,
  decode, encode, mux: the source's frame rate and audio kept).
- :mod:`.webapp`: the local web page (``python -m srgan_keras.app``, Gradio); its work without
  Gradio: :mod:`.web_settings` the page's controls as the upscale command's flags, parsed by its
  parser; :mod:`.web_upscale` one upload through the command's plan and job, the previews, the
  job folders; :mod:`.web_batch` several uploads, a line each, one zip; :mod:`.web_video` a short
  video, bounded, through the command's video job.
"""
