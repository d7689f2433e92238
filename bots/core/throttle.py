"""When to edit a status message: at most every ``interval`` seconds, only on change. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class EditThrottle:
    interval_s: float = 4.0
    _last_at: dict[str, float] = field(default_factory=dict)
    _last_text: dict[str, str] = field(default_factory=dict)

    def should_edit(self, key: str, text: str, now: float, *, force: bool = False) -> bool:
        if self._last_text.get(key) == text:
            return False
        if not force and now - self._last_at.get(key, -1e9) < self.interval_s:
            return False
        self._last_at[key] = now
        self._last_text[key] = text
        return True

    def forget(self, key: str) -> None:
        self._last_at.pop(key, None)
        self._last_text.pop(key, None)
