"""The library's own error types.

Each subclasses the built-in error a caller would expect (`ValueError`), so
`except ValueError` keeps working, and each message names the file or argument,
what was expected and what was received.
"""

from __future__ import annotations

from pathlib import Path


class ImageReadError(ValueError):
    """An image file could not be turned into DCT coefficients.

    Attributes:
        path: the file that failed.
        reason: what was wrong with it, in words.
    """

    def __init__(self, path: str | Path, reason: str):
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class ParameterError(ValueError):
    """A notebook or profile parameter is unknown, mistyped or out of range."""
