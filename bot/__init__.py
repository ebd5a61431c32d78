"""Telegram channel (python-telegram-bot): a thin adapter over the intake engine."""
