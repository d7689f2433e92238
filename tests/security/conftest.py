"""The web chat fixtures of tests/adapter_web, shared with the security tests."""

from tests.adapter_web.conftest import make_chat, web_settings

__all__ = ["make_chat", "web_settings"]
