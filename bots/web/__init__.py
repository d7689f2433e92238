"""The mobile-first web chat: an aiohttp app serving one page, a JSON API and a WebSocket."""
