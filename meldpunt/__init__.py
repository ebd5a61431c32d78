"""Composition root: settings, the command line and the service wiring."""
