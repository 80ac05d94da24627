"""Scoring a generator as the papers report it, and the figures and cards that show the scores.

- :mod:`.metrics`: PSNR and SSIM on the Y channel with the scale cropped from the border (SRGAN
  §3.1, the field's protocol).
- :mod:`.evaluate`: the evaluate API and CLI (SRGAN Table 1-2 protocol); :mod:`.report` prints
  its report as a table or CSV.
- :mod:`.figures`: the comparison figure (SRGAN Fig. 2): panels with one zoomed inset each.
- :mod:`.degraded`: benchmark LRs degraded as real photos are (Real-ESRGAN §3), seeded per image.
- :mod:`.niqe`: NIQE, the no-reference score (Mittal et al. 2013), for real LR photos.
- :mod:`.interpolate`: the interpolate CLI: blends of a PSNR and a GAN model (ESRGAN §3.4, the
  blend itself is :mod:`srgan_keras.nn.interpolation`) and their perception-distortion sweep.
- :mod:`.model_card`: the bundled models' card, figures and metrics from one run.
- :mod:`.run_logs`: reading a training run's logged scalars and sample images.
"""
