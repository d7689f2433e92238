"""WhatsApp Cloud API adapter: signed webhooks in, Graph API messages and media out."""

from bots.whatsapp.app import running, serve

__all__ = ["running", "serve"]
