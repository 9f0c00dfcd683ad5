"""Command line: parses arguments, calls the library, prints. ``emosynth --help``.

One module per group of commands; importing them registers their commands on ``app``.
"""

from emosynth.cli import experiment, generate, quality, review, train  # noqa: F401
from emosynth.cli.app import app

__all__ = ["app"]
