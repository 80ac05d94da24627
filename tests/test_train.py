"""The training loop: steps that learn, the CLI end to end, resume, interrupts, NaN, strategies."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from srgan_keras.nn.outputs import output_range
from srgan_keras.nn.srgan_discriminator import build_discriminator
from srgan_keras.nn.srresnet import build_srresnet
from srgan_keras.training import train
from srgan_keras.training import trainer as trainer_module
from srgan_keras.training.config import TrainConfig, get_config
from srgan_keras.training.losses import ContentLoss, PixelLoss
from srgan_keras.training.srgan import LOG_KEYS, SRGAN

REPO = Path(__file__).resolve().parents[1]


def _fixed_batch(b=2, hr=32, seed=0):
    rng = np.random.default_rng(seed)
    hr_img = tf.constant(rng.uniform(-1, 1, (b, hr, hr, 3)).astype("float32"))
    hr_img = tf.image.resize(tf.image.resize(hr_img, (hr // 4, hr // 4)), (hr, hr))  # smooth
    lr = tf.image.resize((hr_img + 1) / 2, (hr // 4, hr // 4), antialias=True)
    return lr, hr_img


def _tiny_srgan(adversarial=None):
    keras.utils.set_random_seed(0)
    g = build_srresnet(num_blocks=1, num_filters=8)
    d = build_discriminator(32, num_filters=8)
    model = SRGAN(g, d)
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3), d_optimizer=keras.optimizers.Adam(1e-3),
                  content_loss=ContentLoss("mse"), adversarial=adversarial)
    return model


@pytest.mark.slow
def test_pretraining_is_keras_fit_and_reduces_the_loss_on_a_fixed_batch():
    """SRResNet pre-training (Eq. 4) is plain G.compile(loss=PixelLoss("mse")) + G.fit."""
    keras.utils.set_random_seed(0)
    g = build_srresnet(num_blocks=1, num_filters=8)
    g.compile(optimizer=keras.optimizers.Adam(1e-3), loss=PixelLoss("mse"))
    lr, hr = _fixed_batch()
    loss = g.fit(lr, hr, epochs=60, batch_size=2, verbose=0).history["loss"]
    assert loss[-1] < 0.5 * loss[0]


def test_one_gan_step_keeps_eq3_and_keeps_d_between_0_and_1():
    model = _tiny_srgan()
    lr, hr = _fixed_batch()
    logs = tf.function(model.gan_update)(lr, hr, hr)
    for key in LOG_KEYS:
        assert np.isfinite(float(logs[key])), key
    assert 0 < float(logs["d_real"]) < 1 and 0 < float(logs["d_fake"]) < 1
    # l_SR = l_X + 1e-3 l_Gen (Eq. 3)
    assert float(logs["g_loss"]) == pytest.approx(
        float(logs["content_loss"]) + 1e-3 * float(logs["adv_loss"]), rel=1e-5)


def test_every_config_field_is_a_cli_flag():
    args = train.parse_args(["--preset", "tiny", "--batch-size", "3", "--hr-size", "48",
                             "--scale", "2", "--pretrain-lr", "0.01", "--seed", "7",
                             "--no-jit-compile", "--gan-milestones", "5,9"])
    cfg = train.config_from_args(args)
    assert (cfg.batch_size, cfg.hr_size, cfg.scale, cfg.pretrain_lr, cfg.seed) == (3, 48, 2, 0.01, 7)
    assert cfg.jit_compile is False and cfg.gan_milestones == (5, 9)
    parser_flags = set()
    p = argparse.ArgumentParser()
    train.add_config_flags(p)
    for action in p._actions:
        parser_flags.update(action.option_strings)
    for f in dataclasses.fields(TrainConfig):
        assert "--" + f.name.replace("_", "-") in parser_flags


def test_paper_preset_is_the_paper():
    cfg = get_config("paper")
    assert (cfg.hr_size, cfg.batch_size, cfg.scale, cfg.num_blocks) == (96, 16, 4, 16)
    assert (cfg.pretrain_steps, cfg.gan_steps, cfg.pretrain_lr, cfg.gan_lr) == (10**6, 2 * 10**5, 1e-4, 1e-4)
    assert cfg.gan_milestones == (100_000,) and cfg.lr_gamma == 0.1
    assert cfg.content_loss == "vgg54" and cfg.adv_weight == 1e-3 and cfg.beta1 == 0.9
    assert cfg.global_residual is False


def test_bad_setting_fails_at_start_with_a_sentence(capsys):
    assert train.main(["--preset", "tiny", "--upsampler", "magic"]) == 2
    assert "--upsampler must be one of" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_end_to_end_writes_the_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert train.main(["--preset", "tiny", "--out", str(out)]) == 0
    for name in ("config.json", "generator.keras", "samples.png", "result.json"):
        assert (out / name).is_file(), name
    assert (out / "checkpoints" / "checkpoint").is_file()
    assert any((out / "logs").iterdir())
    assert json.loads((out / "config.json").read_text())["preset"] == "tiny"
    text = capsys.readouterr().out
    assert "final validation" in text and "bicubic" in text
    g = keras.saving.load_model(out / "generator.keras", safe_mode=True)
    assert g.output_shape[-1] == 3
    # Same command again: resumes at the end, takes no step, says so.
    assert train.main(["--preset", "tiny", "--out", str(out)]) == 0
    assert "resuming from step 6" in capsys.readouterr().out


def test_a_missing_data_folder_is_one_line_and_leaves_no_run_folder(tmp_path, monkeypatch, capsys):
    """Issue 28.6: refused before the config is printed and before saved_models/<preset> is made."""
    monkeypatch.chdir(tmp_path)
    for flags in (["--data", "photoz"], ["--val-data", "held_out"], ["--init-from", "G.keras"]):
        assert train.main(["--preset", "tiny", *flags]) == 2
        captured = capsys.readouterr()
        assert captured.out == "", captured.out
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {flags[0]} {flags[1]}: no such"), err
        assert list(tmp_path.iterdir()) == []


def test_start_up_names_only_the_settings_that_differ_from_the_preset(tmp_path, monkeypatch, capsys):
    """Issue 28.6: one line of changed settings, not the 60-line config (config.json keeps it,
    --verbose prints it)."""

    class NoRun:  # the start-up is what is tested: no step is taken
        def __init__(self, cfg, run_dir, strategy):
            pass

        def restore_or_init(self):
            pass

        def run(self, restore=True):
            return 0

    monkeypatch.setattr(trainer_module, "Trainer", NoRun)
    out = tmp_path / "run"
    assert train.main(["--preset", "tiny", "--out", str(out), "--seed", "3", "--batch-size", "3"]) == 0
    text = capsys.readouterr().out
    assert "settings: the tiny preset's, except batch-size 3, seed 3\n" in text
    assert "hr-size" not in text and "hr_size" not in text and len(text.splitlines()) <= 3, text
    assert json.loads((out / "config.json").read_text())["hr_size"] == get_config("tiny").hr_size
    assert train.main(["--preset", "tiny", "--out", str(out)]) == 0
    assert "settings: the tiny preset's\n" in capsys.readouterr().out
    assert train.main(["--preset", "tiny", "--out", str(out), "--verbose"]) == 0
    assert '"hr_size": ' in capsys.readouterr().out


def test_samples_png_titles_its_columns():
    """Issue 28.6: the sample grid (samples.png, TensorBoard) says which column is LR, bicubic,
    SR and HR, in dark text on a strip above each of the four columns."""
    from srgan_keras.training.validation import Validation

    val = Validation(get_config("tiny", val_images=2))
    keras.utils.set_random_seed(0)
    img = val.sample_grid(build_srresnet(num_blocks=1, num_filters=8))
    gap, rows = 4, min(len(val), 2)
    side = (img.shape[1] - 3 * gap) // 4  # four square crops side by side
    title = img[:img.shape[0] - (rows * (side + gap) - gap)]
    assert title.shape[0] >= 10, "no title strip above the columns"
    for c in range(4):
        column = title[:, c * (side + gap):c * (side + gap) + side]
        assert (column < 100).any(), f"column {c} has no title"
        assert (column > 200).mean() > 0.5  # dark text on white


@pytest.mark.slow
def test_resume_continues_at_the_right_step_with_identical_weights(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert train.main(["--preset", "tiny", "--out", out, "--phase", "pretrain",
                       "--pretrain-steps", "2", "--ckpt-every", "1"]) == 0
    saved = keras.saving.load_model(Path(out) / "generator.keras", safe_mode=True).get_weights()
    cfg = get_config("tiny", out=out, phase="pretrain", pretrain_steps=4)
    trainer = trainer_module.Trainer(cfg, Path(out), tf.distribute.get_strategy())
    trainer.restore_or_init()
    assert "resuming from step 2" in capsys.readouterr().out
    for a, b in zip(saved, trainer.state.G.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert trainer.run() == 0
    assert trainer.state.total_done() == 4


@pytest.mark.slow
def test_validation_is_the_evaluation_protocol(tmp_path):
    """Issue 15 item 3: Trainer.validate scores through evaluate_image, so it equals the evaluate
    API on the same images to the last digit (one protocol, not a copy of it)."""
    from srgan_keras.evaluation.protocol import evaluate_image

    cfg = get_config("tiny", out=str(tmp_path / "run"), phase="pretrain", val_images=2)
    trainer = trainer_module.Trainer(cfg, tmp_path / "run", tf.distribute.get_strategy())
    got = trainer.validate()
    results = [evaluate_image(trainer.G, hr, cfg.scale) for _, hr, _, _ in trainer.val]
    assert got["psnr"] == np.mean([r.metrics["psnr_y"] for r in results])
    assert got["ssim"] == np.mean([r.metrics["ssim_y"] for r in results])
    assert got["bicubic_psnr"] == np.mean([r.bicubic["psnr_y"] for r in results])


@pytest.mark.slow
def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    real_step = trainer_module.Trainer.pretrain_step

    def poisoned(self):  # the logged loss turns NaN from the third update on
        step, calls = real_step(self), [0]

        def run(batch):
            calls[0] += 1
            logs = step(batch)
            return {**logs, "g_loss": logs["g_loss"] * (float("nan") if calls[0] > 2 else 1.0)}

        return run

    monkeypatch.setattr(trainer_module.Trainer, "pretrain_step", poisoned)
    rc = train.main(["--preset", "tiny", "--out", str(out), "--ckpt-every", "1"])
    assert rc == 3
    err = capsys.readouterr().err
    assert "NaN/Inf" in err and "--pretrain-lr" in err
    assert not (out / "generator.keras").exists()


def _cli(out, *extra):
    return [sys.executable, "-m", "srgan_keras.train", "--preset", "tiny", "--out", str(out), *extra]


@pytest.mark.slow
def test_sigkill_midway_then_the_same_command_finishes_at_the_same_total(tmp_path):
    out = tmp_path / "run"
    cmd = _cli(out, "--pretrain-steps", "400", "--gan-steps", "0", "--ckpt-every", "5",
               "--val-every", "100000", "--log-every", "50")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    state = out / "checkpoints" / "checkpoint"
    deadline = time.time() + 240
    while time.time() < deadline and not (state.exists() and "ckpt-3" in state.read_text()):
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert state.exists(), "no checkpoint was written before the kill"
    res = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "resuming from step" in res.stdout
    assert json.loads((out / "result.json").read_text())["steps"] == 400


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    res = subprocess.run(_cli(tmp_path / "run", "--strategy", "mirrored", "--logical-cpus", "2",
                              "--batch-size", "4"),
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "final validation" in res.stdout


@pytest.mark.slow
def test_bfloat16_mixed_precision_trains_and_saves_a_float32_generator(tmp_path):
    """Trained in bfloat16; generator.keras computes in float32 and scores what the run printed."""
    res = subprocess.run(_cli(tmp_path / "run", "--mixed-precision", "bfloat16"),
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "final validation" in res.stdout
    model = keras.saving.load_model(tmp_path / "run" / "generator.keras", safe_mode=True)
    assert {layer.dtype_policy.name for layer in model.layers} == {"float32"}
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    from srgan_keras.data.sources import validation_images
    from srgan_keras.evaluation.protocol import evaluate_image
    from srgan_keras.training.config import get_config

    cfg = get_config("tiny")
    psnr = np.mean([evaluate_image(model, hr, cfg.scale, bicubic=False).metrics["psnr_y"]
                    for _, hr in validation_images(cfg)])
    assert abs(psnr - result["psnr"]) < 0.01, (psnr, result)


def test_vgg_download_failure_is_one_sentence_and_exit_2(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise OSError("URL fetch failure")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    rc = train.main(["--preset", "tiny", "--out", str(tmp_path / "r"), "--content-loss", "vgg54"])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: could not load VGG19 weights")
    assert "--vgg-weights PATH" in err[-1] and "--content-loss mse" in err[-1]


def test_a_corrupt_vgg_weights_file_is_one_sentence_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "vgg.h5"
    bad.write_bytes(b"not an HDF5 file")
    rc = train.main(["--preset", "tiny", "--out", str(tmp_path / "r"), "--content-loss", "vgg54",
                     "--vgg-weights", str(bad)])
    assert rc == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: VGG19 weights {str(bad)!r} do not load"), err[-1]


@pytest.mark.slow
@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)],
                         ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_saves_a_checkpoint_and_exits_cleanly(tmp_path, sig, code):
    """Ctrl-C, and SIGTERM (a cluster's pre-emption; ``kill``), both checkpoint before exiting."""
    out = tmp_path / "run"
    cmd = _cli(out, "--pretrain-steps", "100000", "--gan-steps", "0", "--ckpt-every", "1000000",
               "--val-every", "1000000", "--log-every", "1")
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    deadline = time.time() + 240
    lines = []
    while time.time() < deadline:
        line = proc.stdout.readline()
        lines.append(line)
        if "steps_per_s" in line or "pretrain:" in line and "1/" in line:
            break
    time.sleep(2)
    proc.send_signal(sig)
    rest, _ = proc.communicate(timeout=120)
    assert proc.returncode == code, "".join(lines) + rest
    assert "interrupted at step" in rest and "checkpoint saved" in rest
    assert (out / "checkpoints" / "checkpoint").is_file()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_multiworker_strategy_with_two_local_workers(tmp_path):
    """Two processes on loopback, one worker each: both finish; only the chief writes the run folder."""
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs = []
    for i in range(2):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2",
               "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})}
        procs.append(subprocess.Popen(
            _cli(tmp_path / "run", "--strategy", "multiworker", "--batch-size", "2"),
            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (_so, se) in zip(procs, outs):
        assert p.returncode == 0, se[-3000:]
    assert "generator saved" in outs[0][0] and "generator saved" not in outs[1][0]
    assert (tmp_path / "run" / "generator.keras").is_file()


@pytest.mark.slow
def test_realesrgan_preset_runs_end_to_end_with_its_parts(tmp_path, capsys):
    """RRDBNet + U-Net SN discriminator + second-order degradations + USM targets + EMA."""
    out = tmp_path / "run"
    rc = train.main(["--preset", "realesrgan", "--num-blocks", "1", "--num-filters", "8",
                     "--disc-filters", "8", "--hr-size", "64", "--batch-size", "2",
                     "--pretrain-steps", "2", "--gan-steps", "2", "--content-loss", "l1",
                     "--val-images", "1", "--no-jit-compile", "--out", str(out)])
    assert rc == 0
    cfg = json.loads((out / "config.json").read_text())
    assert (cfg["generator"], cfg["discriminator"], cfg["degradation"]) == ("rrdbnet", "unet", "realesrgan")
    g = keras.saving.load_model(out / "generator.keras", safe_mode=True)
    assert output_range(g) == "unit"
    assert "d_fake" in capsys.readouterr().out


@pytest.mark.slow
def test_resuming_another_architecture_is_refused_and_schedule_changes_are_listed(tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["--preset", "tiny", "--out", out, "--phase", "pretrain", "--pretrain-steps", "2"]
    assert train.main(base) == 0
    capsys.readouterr()
    assert train.main(base + ["--num-blocks", "3"]) == 2
    err = capsys.readouterr().err
    assert "another architecture (num_blocks 2 -> 3)" in err and "--out" in err
    assert train.main([*base[:-1], "3"]) == 0
    text = capsys.readouterr().out
    assert "changed settings: pretrain_steps 2 -> 3" in text and "resuming from step 2" in text
    # EMA on or off changes the optimizer's checkpoint layout: refused, the folder untouched.
    before = (tmp_path / "run" / "config.json").read_text()
    assert train.main([*base[:-1], "4", "--ema-decay", "0.999"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "EMA cannot be switched on or off when resuming" in err[0]
    assert (tmp_path / "run" / "config.json").read_text() == before


@pytest.mark.parametrize("flags, sentence", [
    (["--scale", "1"], "--generator srresnet cannot upscale x1; its scales are 2, 4, 8"),
    (["--generator", "rrdbnet", "--scale", "8"], "--generator rrdbnet cannot upscale x8"),
    (["--lr-data", "LR", "--degradation", "realesrgan"],
     "--lr-data cannot be used with --degradation realesrgan"),
    (["--lr-data", "LR", "--data", "tfds:div2k"], "--lr-data cannot be paired with --data tfds:div2k"),
    (["--lr-data", "LR", "--color-jitter"], "--color-jitter cannot be used with --lr-data"),
], ids=["srresnet-x1", "rrdbnet-x8", "lr-data+realesrgan", "lr-data+tfds", "jitter+lr-data"])
def test_settings_that_cannot_work_are_refused_with_one_sentence(tmp_path, capsys, flags, sentence):
    out = tmp_path / "run"
    assert train.main(["--preset", "tiny", "--out", str(out), *flags]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and sentence in err[0], err
    assert "Traceback" not in captured.err and not out.exists()


def test_an_unexpected_error_is_one_line_and_its_traceback_only_with_debug(tmp_path, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(trainer_module.Trainer, "__init__", broken)
    args = ["--preset", "tiny", "--out", str(tmp_path / "run")]
    assert train.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: RuntimeError: disk on fire (rerun with --debug for the traceback)"]
    assert train.main([*args, "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "disk on fire" in err


@pytest.mark.slow
def test_a_run_checkpointed_by_the_previous_code_resumes(tmp_path, monkeypatch, capsys):
    """The layout of /work/runs/realesr_x4 (commit eb62857): SRVGGNetCompact + U-Net with Keras'
    SpectralNormalization, all three optimizers FusedAdam with EMA (the D's too), the seven
    checkpoint keys, config.json with the preset. The new trainer resumes it at its step."""
    from srgan_keras.nn import unet_discriminator
    from srgan_keras.training.networks import build_critic, build_generator
    from srgan_keras.training.optimizers import FusedAdam
    from srgan_keras.training.schedules import LRSchedule

    flags = ["--preset", "realesrgan", "--generator", "srvgg", "--num-conv", "2",
             "--num-filters", "8", "--disc-filters", "8", "--hr-size", "48", "--batch-size", "2",
             "--phase", "pretrain", "--lr-schedule", "cosine", "--warmup-steps", "2",
             "--ema-decay", "0.999", "--val-images", "1", "--ckpt-every", "1", "--log-every", "1"]
    out = tmp_path / "run"
    old = train.config_from_args(train.parse_args([*flags, "--pretrain-steps", "3",
                                                   "--out", str(out)]))
    keras.utils.set_random_seed(1)
    with monkeypatch.context() as m:  # the old discriminator: Keras' own spectral norm
        m.setattr(unet_discriminator, "SpectralNorm", keras.layers.SpectralNormalization)
        G, D = build_generator(old), build_critic(old)
    opts = []
    for net in (G, G, D):
        opt = FusedAdam(LRSchedule("cosine", 2e-4, 3, (), 0.5, 2, 0.0), beta_1=0.9, beta_2=0.99,
                        use_ema=True, ema_momentum=0.999)
        opt.build(net.trainable_variables)
        opts.append(opt)
    opts[0].iterations.assign(2)
    opts[0]._model_variables_moving_average[0].assign(tf.ones_like(G.trainable_variables[0]))
    opts[2]._momentums[0].assign(tf.fill(opts[2]._momentums[0].shape, 2.0))  # D's Adam slot
    ckpt = tf.train.Checkpoint(
        generator=G, discriminator=D, pretrain_optimizer=opts[0], g_optimizer=opts[1],
        d_optimizer=opts[2], pretrain_steps_done=tf.Variable(2, dtype=tf.int64),
        gan_steps_done=tf.Variable(0, dtype=tf.int64))
    tf.train.CheckpointManager(ckpt, str(out / "checkpoints"), max_to_keep=3).save()
    (out / "config.json").write_text(json.dumps({"preset": "realesrgan",
                                                 **json.loads(old.to_json())}, indent=2))
    saved_g = G.get_weights()

    cfg = train.config_from_args(train.parse_args([*flags, "--pretrain-steps", "3",
                                                   "--out", str(out)]))
    trainer = trainer_module.Trainer(cfg, out, tf.distribute.get_strategy())
    trainer.restore_or_init()
    assert "resuming from step 2 (pretrain 2/3, gan 0/0)" in capsys.readouterr().out
    for a, b in zip(saved_g, trainer.state.G.get_weights()):
        np.testing.assert_array_equal(a, b)
    ema = trainer.state.pre_opt._model_variables_moving_average[0].numpy()
    np.testing.assert_array_equal(ema, np.ones_like(ema))  # the EMA slots restored in place
    assert int(trainer.state.pre_opt.iterations.numpy()) == 2
    d_m = trainer.state.d_opt._momentums[0].numpy()  # D's slots in place, not shifted by its EMA
    np.testing.assert_array_equal(d_m, np.full_like(d_m, 2.0))
    assert trainer.run() == 0
    assert json.loads((out / "result.json").read_text())["steps"] == 3


def test_disc_lr_sets_only_the_discriminators_learning_rate():
    """--disc-lr: D's optimizer at its own rate on gan_lr's schedule; G's keeps gan_lr; unset, both
    share gan_lr (the paper); not positive is refused like the other rates."""
    import tensorflow as tf

    from srgan_keras.training.state import build_state

    def rates(**kw):
        state = build_state(get_config("tiny", phase="gan", gan_steps=4, **kw), tf.distribute.get_strategy())
        return (float(keras.ops.convert_to_numpy(state.g_opt.learning_rate)),
                float(keras.ops.convert_to_numpy(state.d_opt.learning_rate)))

    assert rates() == pytest.approx((1e-4, 1e-4))
    assert rates(disc_lr=1e-3) == pytest.approx((1e-4, 1e-3))
    with pytest.raises(ValueError, match="--disc-lr must be a positive number"):
        get_config("tiny", disc_lr=0.0)
