"""The error of a training run the user can act on (a bad ``--init-from``, an ``--out`` that is not
this run's folder); the ``train`` CLI prints it as one line and exits 2. A leaf module, so the CLI
(:mod:`.train`) and the run (:mod:`.trainer`) both raise it without importing each other."""

from srgan_keras.errors import SrganKerasError


class TrainingError(SrganKerasError, RuntimeError):
    """A failure the user can act on; printed as one line."""
