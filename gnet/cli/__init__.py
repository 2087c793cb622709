"""The command line: ``gnet`` and ``gnet-bench``, thin shells over each stage's Python API.

``common`` holds what every command shares (consoles, the one error handler, batch parsing, tables);
``export``, ``engines`` and ``bench`` hold each stage's commands; ``app`` registers them.
"""

from gnet.cli.app import bench_main, cli, main

__all__ = ["bench_main", "cli", "main"]
