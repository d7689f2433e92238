"""The web chat and WhatsApp fixtures of the adapter tests, shared with the security tests."""

from tests.adapter_web.conftest import make_chat, web_settings
from tests.adapter_whatsapp.conftest import graph, meta, settings

__all__ = ["graph", "make_chat", "meta", "settings", "web_settings"]
