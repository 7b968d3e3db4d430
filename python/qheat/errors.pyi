"""Type stubs of qheat.errors (python/qheat/errors.py): every error the engine reports, with the rule it broke."""

from typing import Any

__all__ = ["Error", "ModelError", "MethodError", "ExpressionError", "MemoryLimitError"]

class Error(Exception):
    """Base class of qheat's errors: ``rule``, ``message``, ``line`` and ``file``."""

    message: str
    """One sentence saying what is wrong."""
    rule: str
    """The broken rule, e.g. "hermitian-coupling" (docs/conventions.md, docs/model-format.md)."""
    line: int
    """The model-file line, 0 when none applies."""
    file: str
    """The model file, '' when none applies."""
    def __init__(self, message: str, rule: str = "", line: int = 0, file: str = "", **extra: Any) -> None:
        """An error with its message and rule; extra keyword arguments become attributes."""

class ModelError(Error):
    """A model (file or arrays) breaks a rule of docs/model-format.md, or an array has the wrong shape or dtype."""

class MethodError(Error):
    """A method cannot do what was asked (unknown method, unsupported model, wrong options)."""

class ExpressionError(Error):
    """An operator or number expression cannot be evaluated."""

class MemoryLimitError(Error):
    """The computation would need more memory than allowed: ``estimate`` and ``limit`` in bytes."""

    estimate: int
    """The solver's estimated peak memory in bytes."""
    limit: int
    """The memory limit in bytes (qheat.set_max_memory, else the memory available)."""
