"""Reading what a training run logged: the TensorBoard scalars and sample images of ``RUN/logs``.

The trainer writes one events file per process (a first start and each resume). The model card
reads the validation curve, step counts and wall time from them, and the notebooks plot the
losses; both read through :func:`read_logs`, without a TensorBoard server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RunLogs:
    """``{tag: [(step, value)]}`` scalars, ``{tag: [(step, png bytes)]}`` images, and per events
    file the wall times (seconds since the epoch) of its first event (the header, written when
    the file opened) and its last."""

    scalars: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    images: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    spans: list[tuple[float, float]] = field(default_factory=list)


def read_logs(logdir: str | os.PathLike, max_step: int | None = None) -> RunLogs:
    """Every ``events.out.tfevents.*`` file of ``logdir``, in file-name (= start-time) order.

    ``max_step``: events of later steps are left out, from the values and from the spans (a
    process's span then ends at its last event of a step <= ``max_step``)."""
    import tensorflow as tf
    from tensorflow.core.util import event_pb2

    files = sorted(Path(logdir).glob("events.out.tfevents.*"))
    if not files:
        raise FileNotFoundError(f"{logdir}: no events.out.tfevents.* to read")
    logs = RunLogs()
    for f in files:
        first = last = None
        logged = False  # a process that only opened its file before max_step is no span
        for record in tf.data.TFRecordDataset(str(f)):
            event = event_pb2.Event.FromString(record.numpy())
            if max_step is not None and event.step > max_step:
                continue
            first = event.wall_time if first is None else first
            last = event.wall_time
            logged = logged or bool(event.summary.value)
            for value in event.summary.value:
                t = tf.make_ndarray(value.tensor)
                if t.dtype == object:  # an image summary: [width, height, png, ...]
                    logs.images.setdefault(value.tag, []).append((int(event.step), t[2]))
                else:
                    logs.scalars.setdefault(value.tag, []).append((int(event.step), float(t)))
        if first is not None and (logged or max_step is None):
            logs.spans.append((first, last))
    return logs


def read_scalars(logdir: str | os.PathLike) -> dict[str, list[tuple[int, float]]]:
    """``{tag: [(step, value)]}`` of every scalar ``logdir`` holds."""
    return read_logs(logdir).scalars


__all__ = ["RunLogs", "read_logs", "read_scalars"]
