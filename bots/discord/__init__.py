"""The Discord adapter: slash commands in, status embeds and clips out (discord.py).

``bots.discord.app.serve(settings, stop)`` is the entry point of ``clipbot bots --discord``.
"""
