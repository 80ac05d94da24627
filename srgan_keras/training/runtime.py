"""Where a run computes: devices, precision policy, the ``tf.distribute`` strategy, compiled steps.

Must be set up before any TensorFlow op (logical CPUs cannot be split afterwards). MirroredStrategy
over logical CPUs is how the tests exercise multi-replica training on one machine (NOTES-TF.md).
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import tensorflow as tf

from srgan_keras.training.config import TrainConfig


def setup_runtime(cfg: TrainConfig) -> tf.distribute.Strategy:
    """Devices, precision and distribution strategy; must run before any TensorFlow op."""
    if cfg.logical_cpus > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * cfg.logical_cpus)
    if cfg.mixed_precision != "none":
        keras.mixed_precision.set_global_policy(f"mixed_{cfg.mixed_precision}")
    if cfg.strategy == "mirrored":
        devices = None
        if cfg.logical_cpus > 1 and not tf.config.list_physical_devices("GPU"):
            devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices)
    if cfg.strategy == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True unless this process is a non-chief worker of a multi-worker strategy."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type == "chief" or (task_type == "worker" and task_id == 0
                                    and "chief" not in resolver.cluster_spec().as_dict())


def use_xla(cfg: TrainConfig, strategy: tf.distribute.Strategy) -> bool:
    """``--jit-compile``, except under a multi-replica strategy (TF cannot compile it on CPU)."""
    jit = cfg.jit_compile and strategy.num_replicas_in_sync == 1
    if cfg.jit_compile and not jit:
        print("note: XLA is off under a multi-replica strategy (TF cannot compile it on CPU)")
    return jit


def distributed_step(strategy: tf.distribute.Strategy, replica_step: Callable[..., dict],
                     jit: bool) -> Callable:
    """``batch -> {key: value}``: ``replica_step(batch)`` run on every replica, values averaged."""
    inner = tf.function(replica_step, jit_compile=jit)

    @tf.function
    def step(batch):
        per_replica = strategy.run(inner, args=(batch,))
        return {k: strategy.reduce("MEAN", v, axis=None) for k, v in per_replica.items()}

    return step


def batches(strategy: tf.distribute.Strategy, dataset: tf.data.Dataset):
    """An iterator over ``dataset``, split across the replicas when there are several."""
    if strategy.num_replicas_in_sync > 1:
        return iter(strategy.experimental_distribute_dataset(dataset))
    return iter(dataset)
