"""Scoring a generator as the papers report it, and the figures and cards that show the scores.

- :mod:`.metrics`: PSNR and SSIM on the Y channel with the scale cropped from the border (SRGAN
  §3.1, the field's protocol).
- :mod:`.protocol`: the paper's protocol for one image (SRGAN §3.1, Table 1-2): crop, LR, SR,
  Y-channel PSNR/SSIM, bicubic beside it.
- :mod:`.folders`: that protocol over a folder (and NIQE over real LR photos): the report dict.
- :mod:`.evaluate`: the evaluate CLI; :mod:`.report` prints its report as a table or CSV.
- :mod:`.figures`: the comparison figure (SRGAN Fig. 2): panels with one zoomed inset each.
- :mod:`.degraded`: benchmark LRs degraded as real photos are (Real-ESRGAN §3), seeded per image.
- :mod:`.niqe`: NIQE, the no-reference score (Mittal et al. 2013), for real LR photos.
- :mod:`.interpolate`: the interpolate CLI: blends of a PSNR and a GAN model (ESRGAN §3.4, the
  blend itself is :mod:`srgan_keras.nn.interpolation`) and their perception-distortion sweep.
- :mod:`.model_card`: the bundled models' card, figures and metrics from one run (the CLI);
  :mod:`.card_markdown` writes its tables into ``MODEL_CARD.md``, :mod:`.jpeg_example` measures
  issue 12's small-JPEG example.
- :mod:`.run_logs`: reading a training run's logged scalars and sample images.
"""
