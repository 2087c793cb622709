"""``python -m gnet`` runs the ``gnet`` command."""

from gnet.cli import main

main()
