"""From image files to training pairs: the data stage.

- :mod:`.imaging`: reading and writing image files (uint8/uint16 pixels, decoded to [0, 1]).
- :mod:`.files`: writing any file without losing one (not a paper concept, the chore every command
  shares): the one atomic write and SavedModel folder publishing; every command that writes goes
  through it (issue 27). :mod:`.temporaries`: the names of our temporaries, and the removal of a
  killed run's; :mod:`.outputs`: the one output-planning module (output names, outputs that are
  inputs refused, what ``--overwrite`` may replace, conflicts between inputs); :mod:`.folder_lock`:
  one command per folder at a time (``train --out``).
- :mod:`.ranges`: the value ranges (LR [0, 1], HR/SR [-1, 1]: SRGAN §3.2) and every conversion
  between them and pixels.
- :mod:`.metadata`: what a photo carries besides pixels (ICC profile, EXIF, PNG text, DPI), read
  from the header and written onto its upscale.
- :mod:`.torch_pickle`: reading PyTorch ``.pth`` weights without torch and without running the
  pickle's code (a restricted unpickler), for the converter and the torchvision VGG19.
- :mod:`.degradation`: the bicubic degradation that makes LR from HR (SRGAN §3.1).
- :mod:`.realesrgan_degradation`: Real-ESRGAN's second-order degradations (Wang et al. 2021, §3,
  Fig. 2), the pipeline; :mod:`.realesrgan_kernels`: its blur and sinc kernels and seeded draws;
  :mod:`.realesrgan_stages`: its stages (blur, resize, noise, JPEG, USM sharpening);
  :mod:`.realesrgan_config`: their settings, the official defaults and our presets.
- :mod:`.sources`: the training and validation images a ``--data`` names, read and checked.
- :mod:`.batches`: endless batches of HR crops, a function of ``(seed, step)``, from memory or
  streamed from disk, flipped and rotated.
- :mod:`.pipeline`: HR crops, their LR, augmentation, as a tf.data pipeline (SRGAN §3.2).
- :mod:`.download`: every download (model zoo weights, benchmark sets): streamed into a temporary
  file, bounded in size, hashed on the way.
- :mod:`.sets`: Set5 and Set14 (SRGAN Table 2) fetched into ``data/`` and verified by SHA-256, for
  machines without ``../shared/data`` (``python -m srgan_keras.fetch_data``); :func:`.sets.find_data`.
"""
