"""The networks, as the papers draw them.

- :mod:`.layers`: the registered custom layers (sub-pixel convolution, SRGAN §2.2 after Shi et al.
  2016; PReLU; the fixed bicubic upsampler; pixel unshuffle and padding for RRDBNet).
- :mod:`.srresnet`: SRResNet, SRGAN's generator (Ledig et al. 2017, Fig. 4 top).
- :mod:`.icnr`: the ICNR initialiser of every convolution that feeds a pixel shuffle (Aitken et al.
  2017, by SRGAN's authors), so training starts without a checkerboard.
- :mod:`.srgan_discriminator`: SRGAN's discriminator (Fig. 4 bottom).
- :mod:`.rrdbnet`: RRDBNet, the generator of ESRGAN (Wang et al. 2018, §3.1) and Real-ESRGAN.
- :mod:`.srvgg`: SRVGGNetCompact, Real-ESRGAN's compact generator (Real-ESRGAN repository).
- :mod:`.vgg_discriminator`: ESRGAN's discriminator, BasicSR's ``VGGStyleDiscriminator`` (§3).
- :mod:`.unet_discriminator`: Real-ESRGAN's U-Net discriminator with spectral norm (§3, Fig. 6);
  :mod:`.spectral_norm`: spectral normalisation as PyTorch computes it (Miyato et al. 2018).
- :mod:`.outputs`: which value range a generator returns (:func:`~.outputs.output_range`).
- :mod:`.interpolation`: deep network interpolation, one network's weights blended with another's
  (ESRGAN §3.4 Eq. 4; Real-ESRGAN's denoise strength with the weak-denoise twin).
- :mod:`.vgg`: VGG19's convolutional part as the frozen feature network of the perceptual losses
  (ImageNet/Keras, torchvision, or seeded random weights: Liu et al. 2021, our offline departure).
- :mod:`.torch_weights`: the published PyTorch weights (BasicSR, Real-ESRGAN, ESRGAN state dicts)
  recognised by their keys and shapes and copied into our networks.
- :mod:`.saving`: loading a ``.keras`` network, in safe mode, with a one-line error; importing it
  registers every class a saved network names (for ``keras.saving.load_model``).
"""
