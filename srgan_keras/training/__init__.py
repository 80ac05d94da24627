"""From training pairs to weights: losses, optimizers, schedules, the GAN step and the trainer.

- :mod:`.config`: one frozen config, the SRGAN paper's values (§3.2) as its defaults.
- :mod:`.presets`: named overrides of it (demo, tiny; ESRGAN §4.1; Real-ESRGAN §4.1), plain dicts.
- :mod:`.losses`: pixel, VGG content (SRGAN §2.2.1, Eq. 5) and perceptual losses (ESRGAN §3.4),
  the adversarial losses (SRGAN Eq. 6, ESRGAN's relativistic average GAN §3.2).
- :mod:`.optimizers`: Adam (SRGAN §3.2) with a fused update; :mod:`.schedules`: learning rates.
- :mod:`.srgan`: SRGAN as a ``keras.Model``: the GAN step (SRGAN §2.1, Eq. 3) that ``fit()`` and
  the CLI both run; pre-training is Keras' own ``G.compile(loss=PixelLoss) / G.fit`` (Eq. 4).
- :mod:`.networks`: the generator and discriminator a config names (built by :mod:`srgan_keras.nn`).
- the CLI's run, in pieces: :mod:`.runtime` (devices, precision, strategy), :mod:`.state`
  (networks, optimizers, the checkpoint), :mod:`.float32_copy` (the float32 / EMA generator that is
  scored and saved), :mod:`.validation` (PSNR/SSIM against bicubic, sample grid), :mod:`.trainer`
  (the ``Trainer``: phases, resume, NaN stop, signals), :mod:`.artifacts` (the files a finished
  run leaves), :mod:`.train` (the ``train`` CLI: flags, refused settings, errors in one line) and
  :mod:`.errors` (``TrainingError``);
  :mod:`.snapshot` saves a run's generator from any of its checkpoints while it trains.
- :mod:`.checkpoints`: the run folder's checkpoints (newest intact one restored, none lost, no
  NaN saved, a killed save's leftovers removed); :mod:`.interrupts`: Ctrl-C/SIGTERM at safe points.
"""
