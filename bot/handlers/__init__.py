"""The chat desk's handlers, one module per concern; bot/router.py picks one for each message."""
