"""The inference stage's error that a model cannot be found, in a leaf module.

:mod:`.runners` resolves ``--model`` and :mod:`.zoo` downloads by name; both raise it (the zoo's
:class:`~srgan_keras.inference.zoo.ZooError` is one), and every command that loads a model prints
it in one line and exits 2. Here, so neither of the two modules imports the other to raise it.
"""

from srgan_keras.errors import SrganKerasError


class ModelNotFoundError(SrganKerasError, FileNotFoundError):
    """No model at the given path or name; the message says how to get one."""
