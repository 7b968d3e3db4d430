"""Exceptions of qheat: every error the engine reports is a :class:`qheat.Error` with the rule it broke.

The rules are those of the command line (``qheat: error [RULE]: message``, docs/conventions.md) and of model
files (docs/model-format.md); an error in a model file also carries the file and the line.
"""

__all__ = ["Error", "ModelError", "MethodError", "ExpressionError", "MemoryLimitError"]


class Error(Exception):
    """Base class of qheat's errors.

    Attributes: ``rule`` (the broken rule, e.g. ``"hermitian-coupling"``), ``message`` (one sentence),
    ``line`` (the model-file line, 0 when none applies) and ``file`` (the model file, '' when none)."""

    def __init__(self, message: str, rule: str = "", line: int = 0, file: str = "", **extra):
        super().__init__(message)
        self.message = message
        self.rule = rule
        self.line = line
        self.file = file
        for k, v in extra.items():
            setattr(self, k, v)

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}" if self.rule else self.message


class ModelError(Error):
    """A model (file or arrays) breaks a rule of docs/model-format.md, or an array has the wrong shape or dtype."""


class MethodError(Error):
    """A method cannot do what was asked (unknown method, unsupported model, wrong options)."""


class ExpressionError(Error):
    """An operator or number expression cannot be evaluated."""


class MemoryLimitError(Error):
    """The computation would need more memory than allowed: ``estimate`` and ``limit`` in bytes."""

    estimate: int
    limit: int
