"""``python -m pico``: the same as the ``pico`` command."""

from .cli import main

main()
