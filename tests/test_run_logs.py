"""Reading a run's TensorBoard logs (evaluation/run_logs.py), as the model card and notebooks do."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from srgan_keras.evaluation.run_logs import read_logs, read_scalars


def _write(logdir, steps, image: bool):
    writer = tf.summary.create_file_writer(str(logdir))
    with writer.as_default():
        for s in steps:
            tf.summary.scalar("pretrain/g_loss", 1.0 / s, step=s)
            if image:
                tf.summary.image("samples", np.full((1, 6, 8, 3), 0.5, np.float32), step=s)
    writer.close()


def test_scalars_images_and_one_span_per_process(tmp_path):
    _write(tmp_path, [1, 2], image=True)
    time.sleep(1.1)  # a resumed process: a second events file, later in name order
    _write(tmp_path, [3], image=False)
    logs = read_logs(tmp_path)
    assert logs.scalars["pretrain/g_loss"] == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
    assert [s for s, _ in logs.images["samples"]] == [1, 2]
    with Image.open(io.BytesIO(logs.images["samples"][0][1])) as im:
        assert im.size == (8, 6)
    assert len(logs.spans) == 2 and all(last >= first for first, last in logs.spans)
    assert read_scalars(tmp_path) == logs.scalars


def test_a_folder_without_logs_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no events.out.tfevents"):
        read_logs(tmp_path)
