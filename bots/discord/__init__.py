"""The Discord adapter: slash commands in, status embeds and clips out (discord.py).

``bots.discord.app.serve(settings, stop)`` is the entry point of ``clipbot bots --discord``.
"""

import warnings

# discord.py imports the stdlib ``audioop`` (deprecated since 3.11) for voice, which we
# never use; the warning would fail test runs that treat warnings as errors.
with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message="'audioop' is deprecated", category=DeprecationWarning
    )
    import discord  # noqa: F401
