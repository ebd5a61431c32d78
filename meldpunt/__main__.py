"""Lets `python -m meldpunt` run the command line."""

from meldpunt.cli import main

main()
