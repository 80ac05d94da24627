"""Issue 13: SRGAN as a keras.Model that fit() drives, with the CLI on the same step.

Tiny networks (1 block, 8 filters, 32 px) so that each test takes seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.data.pipeline import training_dataset
from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.training import train
from srgan_keras.training.config import get_config
from srgan_keras.training.float32_copy import averaged_weights
from srgan_keras.training.losses import ContentLoss, PixelLoss, RelativisticAverageGAN, VanillaGAN
from srgan_keras.training.schedules import LRSchedule
from srgan_keras.training.srgan import LOG_KEYS, SRGAN
from srgan_keras.training.state import build_state
from srgan_keras.training.trainer import Trainer


def _batches(n=8, b=2, hr=32, seed=0):
    rng = np.random.default_rng(seed)
    hr_img = rng.uniform(-1, 1, (n, hr, hr, 3)).astype("float32")
    lr = ((hr_img[:, ::4, ::4] + 1) / 2).astype("float32")
    return tf.data.Dataset.from_tensor_slices((lr, hr_img)).batch(b, drop_remainder=True).repeat()


def _tiny(adversarial=None, g_opt=None, d_opt=None):
    keras.utils.set_random_seed(0)
    model = SRGAN(build_srresnet(num_blocks=1, num_filters=8), build_discriminator(32, num_filters=8))
    model.compile(g_optimizer=g_opt or keras.optimizers.Adam(1e-3),
                  d_optimizer=d_opt or keras.optimizers.Adam(1e-3), content_loss=ContentLoss("mse"),
                  adversarial=adversarial or VanillaGAN())
    return model


def _weights(net):
    return [v.numpy().copy() for v in net.weights]


def test_fit_changes_both_networks_and_returns_every_log_key():
    model = _tiny()
    g0, d0 = _weights(model.generator), _weights(model.discriminator)
    history = model.fit(_batches(), epochs=2, steps_per_epoch=2, verbose=0)
    assert set(history.history) == set(LOG_KEYS)
    assert all(np.isfinite(v).all() for v in history.history.values())
    assert any(not np.array_equal(a, b) for a, b in zip(g0, _weights(model.generator)))
    assert any(not np.array_equal(a, b) for a, b in zip(d0, _weights(model.discriminator)))
    assert int(model.g_optimizer.iterations.numpy()) == int(model.d_optimizer.iterations.numpy()) == 4


class _StopAfter(keras.callbacks.Callback):
    """Simulates a crash at the end of an epoch (after BackupAndRestore saved it)."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise RuntimeError("killed")


@pytest.mark.slow
def test_backup_and_restore_resumes_at_the_right_step(tmp_path):
    backup = str(tmp_path / "backup")
    model = _tiny()
    with pytest.raises(RuntimeError, match="killed"):
        model.fit(_batches(), epochs=4, steps_per_epoch=2, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(backup), _StopAfter(2)])
    at_crash_g, at_crash_d = _weights(model.generator), _weights(model.discriminator)

    # A new process would start from fresh weights and optimizers: scramble this model's (the
    # same object keeps fit's traced step, which is what makes this test fast).
    resumed = model
    for v in resumed.generator.weights + resumed.discriminator.weights:
        v.assign(tf.random.normal(v.shape) if v.trainable else v)
    for opt in (resumed.g_optimizer, resumed.d_optimizer):
        opt.iterations.assign(0)
    seen = []

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):  # after BackupAndRestore restored (it runs first)
            seen.append((_weights(resumed.generator), _weights(resumed.discriminator),
                         int(resumed.g_optimizer.iterations.numpy())))

        def on_epoch_begin(self, epoch, logs=None):
            seen.append(epoch)

    resumed.fit(_batches(), epochs=4, steps_per_epoch=2, verbose=0,
                callbacks=[keras.callbacks.BackupAndRestore(backup), Record()])
    (g, d, iterations), *epochs = seen
    assert epochs == [2, 3]  # the two epochs left, not four
    assert iterations == 4  # the optimizers' state came back too
    for a, b in zip(at_crash_g + at_crash_d, g + d):
        np.testing.assert_array_equal(a, b)
    assert int(resumed.g_optimizer.iterations.numpy()) == 8


@pytest.mark.slow
def test_cli_and_fit_give_the_same_weights_after_three_seeded_steps(tmp_path):
    cfg = get_config("tiny", phase="gan", gan_steps=3, out=str(tmp_path / "run"), val_every=100)
    trainer = Trainer(cfg, tmp_path / "run", tf.distribute.get_strategy())
    assert trainer.run() == 0
    cli = _weights(trainer.state.G) + _weights(trainer.state.D)

    keras.utils.set_random_seed(cfg.seed)  # what Trainer does before building
    state = build_state(cfg, tf.distribute.get_strategy())
    state.model.fit(training_dataset(cfg), epochs=1, steps_per_epoch=3, verbose=0)
    fitted = _weights(state.G) + _weights(state.D)
    for a, b in zip(cli, fitted):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(fitted, _weights(
        build_state(cfg, tf.distribute.get_strategy()).G)))  # and they did train


def test_lr_schedule_values_at_chosen_steps():
    paper = LRSchedule("multistep", 1e-4, 200_000, (100_000,), 0.1)  # SRGAN §3.2
    assert [float(paper(s)) for s in (0, 99_999, 100_000, 199_999)] == pytest.approx(
        [1e-4, 1e-4, 1e-5, 1e-5])
    esrgan = LRSchedule("multistep", 1e-4, 400_000, (50_000, 100_000, 200_000, 300_000), 0.5)
    assert [float(esrgan(s)) for s in (49_999, 50_000, 150_000, 250_000, 399_999)] == \
        pytest.approx([1e-4, 5e-5, 2.5e-5, 1.25e-5, 6.25e-6])
    warm = LRSchedule("constant", 1e-3, 100, warmup=10)
    assert [float(warm(s)) for s in (0, 4, 9, 50)] == pytest.approx([1e-4, 5e-4, 1e-3, 1e-3])
    cos = LRSchedule("cosine", 2e-4, 1100, warmup=100, min_ratio=0.01)
    assert float(cos(100)) == pytest.approx(2e-4)
    assert float(cos(600)) == pytest.approx(2e-4 * (0.01 + 0.99 * 0.5))  # half way: the mean
    assert float(cos(1100)) == pytest.approx(2e-6)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _ragan_numpy(real, fake):
    """ESRGAN Eqs. 1-2 with probabilities: D_Ra(a, b) = sigma(C(a) - E[C(b)])."""
    d_rf, d_fr = _sigmoid(real - fake.mean()), _sigmoid(fake - real.mean())
    return (-np.mean(np.log(d_rf)) - np.mean(np.log(1 - d_fr)),  # L_D, Eq. 1
            -np.mean(np.log(1 - d_rf)) - np.mean(np.log(d_fr)))  # L_G, Eq. 2


def test_ragan_inside_the_gan_step_matches_a_numpy_transcription():
    model = _tiny(RelativisticAverageGAN())
    lr, hr = next(iter(_batches(b=4)))
    G, D = model.generator, model.discriminator
    sr = G(lr, training=True)  # BN in training mode: batch statistics, the same in the step
    real0, fake0 = D(hr, training=True).numpy(), D(sr, training=True).numpy()
    logs = model.gan_update(lr, hr, hr)
    # D's update saw D before its step; G's loss sees the updated D on the same SR
    real1, fake1 = D(hr, training=True).numpy(), D(sr, training=True).numpy()
    assert float(logs["d_loss"]) == pytest.approx(_ragan_numpy(real0, fake0)[0], rel=1e-4)
    assert float(logs["adv_loss"]) == pytest.approx(_ragan_numpy(real1, fake1)[1], rel=1e-4)
    assert float(logs["d_real"]) == pytest.approx(_sigmoid(real0).mean(), rel=1e-4)


@pytest.mark.slow
def test_float16_with_loss_scaling_trains_and_stays_finite():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _tiny(g_opt=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3)),
                      d_opt=keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(1e-3)))
        assert model.generator.layers[1].compute_dtype == "float16"
        g0 = _weights(model.generator)
        history = model.fit(_batches(), epochs=1, steps_per_epoch=3, verbose=0).history
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert all(np.isfinite(v[-1]) for v in history.values())
    assert all(np.isfinite(w).all() for w in _weights(model.generator) + _weights(model.discriminator))
    assert any(not np.array_equal(a, b) for a, b in zip(g0, _weights(model.generator)))
    assert float(model.g_optimizer.dynamic_scale.numpy()) > 1  # the loss really was scaled


def test_pixel_l1_of_a_unit_range_generator_is_taken_on_0_1():
    """BasicSR's L1 on [0, 1]: SR 0.75 everywhere against a mid-grey target (0 in [-1, 1], 0.5 in
    [0, 1]) is 0.25; the same pair compared in [-1, 1] would give 0.5, twice the weight."""
    lr_in = keras.Input((None, None, 3))
    up = keras.layers.UpSampling2D(4)(lr_in)
    out = keras.layers.Conv2D(3, 1, kernel_initializer="zeros",
                              bias_initializer=keras.initializers.Constant(0.75), name="sr_unit")(up)
    G = keras.Model(lr_in, out)
    model = SRGAN(G, build_discriminator(32, num_filters=8))
    model.compile(g_optimizer=keras.optimizers.SGD(0.0), d_optimizer=keras.optimizers.SGD(0.0),
                  pixel_loss=PixelLoss("l1"), pixel_weight=1.0)
    target = tf.zeros((2, 32, 32, 3))
    logs = model.gan_update(tf.zeros((2, 8, 8, 3)), target, target)
    assert float(logs["pixel_loss"]) == pytest.approx(0.25)
    assert float(logs["content_loss"]) == pytest.approx(0.25)  # MSE of 0.5 in [-1, 1]


@pytest.mark.slow
def test_generator_file_holds_the_ema_weights(tmp_path):
    out = tmp_path / "run"
    assert train.main(["--preset", "tiny", "--out", str(out), "--phase", "pretrain",
                       "--ema-decay", "0.5", "--pretrain-lr", "0.01"]) == 0
    saved = keras.saving.load_model(out / "generator.keras", safe_mode=True).get_weights()
    cfg = get_config("tiny", out=str(out), phase="pretrain", ema_decay=0.5, pretrain_lr=0.01)
    trainer = Trainer(cfg, out, tf.distribute.get_strategy())
    trainer.restore_or_init()
    raw = trainer.state.G.get_weights()
    ema = averaged_weights(trainer.state.G, trainer.state.pre_opt)
    for a, b in zip(saved, ema):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert any(not np.allclose(a, b) for a, b in zip(saved, raw))  # not G's raw weights
    result = json.loads((out / "result.json").read_text())
    assert result["psnr"] == pytest.approx(trainer.val.scores(trainer.float32.of(
        trainer.state.G, trainer.state.pre_opt))["psnr"], abs=1e-6)  # validation scored them


@pytest.mark.slow
def test_resume_in_the_middle_of_the_gan_phase_starts_gan_from_the_pretraining_ema(tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["--preset", "tiny", "--out", out, "--ema-decay", "0.5", "--ckpt-every", "1"]
    assert train.main([*base, "--gan-steps", "2"]) == 0
    first = capsys.readouterr().out
    assert "GAN phase starts from the pre-training EMA weights" in first
    assert train.main([*base, "--gan-steps", "4"]) == 0
    second = capsys.readouterr().out
    assert "resuming from step 6 (pretrain 4/4, gan 2/4)" in second
    assert "starts from the pre-training EMA" not in second  # applied once, not mid-phase
    assert json.loads((Path(out) / "result.json").read_text())["steps"] == 8


MIRRORED_FIT = """
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.training.losses import ContentLoss
from srgan_keras.training.srgan import SRGAN

strategy = tf.distribute.MirroredStrategy([d.name for d in tf.config.list_logical_devices("CPU")])
keras.utils.set_random_seed(0)
with strategy.scope():
    model = SRGAN(build_srresnet(num_blocks=1, num_filters=8), build_discriminator(32, num_filters=8))
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3),
                  content_loss=ContentLoss("mse"))
rng = np.random.default_rng(0)
hr = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32")
ds = tf.data.Dataset.from_tensor_slices((((hr[:, ::4, ::4] + 1) / 2), hr)).batch(4).repeat()
d0 = [v.numpy().copy() for v in model.discriminator.trainable_variables]
history = model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0).history
changed = any(not np.array_equal(a, v.numpy()) for a, v in zip(d0, model.discriminator.trainable_variables))
print(json.dumps({"replicas": strategy.num_replicas_in_sync, "changed": changed,
                  "iterations": int(model.g_optimizer.iterations.numpy()),
                  "history": {k: v[-1] for k, v in history.items()}}))
"""


@pytest.mark.slow
def test_fit_under_mirrored_strategy_on_two_logical_cpus(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-c", MIRRORED_FIT], capture_output=True, text=True,
                         timeout=600, cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and out["changed"] and out["iterations"] == 2
    assert set(out["history"]) == set(LOG_KEYS)
    assert all(np.isfinite(v) for v in out["history"].values())
