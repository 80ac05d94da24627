"""From training pairs to weights: losses, optimizers, schedules, the GAN step and the trainer.

- :mod:`.config`: one frozen config, the SRGAN paper's values (§3.2) as its defaults.
- :mod:`.presets`: named overrides of it (demo, tiny; ESRGAN §4.1; Real-ESRGAN §4.1), plain dicts.
- :mod:`.losses`: pixel, VGG content (SRGAN §2.2.1, Eq. 5) and perceptual losses (ESRGAN §3.4),
  the adversarial losses (SRGAN Eq. 6, ESRGAN's relativistic average GAN §3.2).
- :mod:`.optimizers`: Adam (SRGAN §3.2) with a fused update; :mod:`.schedules`: learning rates.
- :mod:`.srgan`: one SRResNet pre-training step and one GAN step (SRGAN §2.1, Eq. 3).
- :mod:`.trainer`: the loop with phases, checkpoints, validation and the ``train`` CLI.
- :mod:`.checkpoints`: the run folder's checkpoints (newest intact one restored, none lost, no
  NaN saved, a killed save's leftovers removed); :mod:`.interrupts`: Ctrl-C/SIGTERM at safe points.
"""
