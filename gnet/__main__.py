"""``python -m gnet`` runs the ``gnet`` command."""

from gnet.cli.app import main

main()
