"""Typed per-user settings over QSettings, each with its default (see README, "Settings")."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "SupervisorConsole"
APPLICATION = "Supervisor Console"
THEMES = ("system", "light", "dark")


class Settings:
    """The settings a user can change, stored in the platform's config location."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store or QSettings(ORGANIZATION, APPLICATION)

    def _get_bool(self, key: str, default: bool) -> bool:
        value = self._store.value(key, default)
        return value in (True, "true", "1", 1) if not isinstance(value, bool) else value

    @property
    def alert_sound(self) -> bool:
        """Beep on a breach alert (default off: the floor is noisy enough)."""
        return self._get_bool("alerts/sound", False)

    @alert_sound.setter
    def alert_sound(self, value: bool) -> None:
        self._store.setValue("alerts/sound", value)

    @property
    def tray_notifications(self) -> bool:
        """Show SLA alerts as desktop notifications when a system tray exists (default on)."""
        return self._get_bool("alerts/tray", True)

    @tray_notifications.setter
    def tray_notifications(self, value: bool) -> None:
        self._store.setValue("alerts/tray", value)

    @property
    def theme(self) -> str:
        """``system`` (follow the desktop), ``light`` or ``dark``."""
        value = str(self._store.value("appearance/theme", "system"))
        return value if value in THEMES else "system"

    @theme.setter
    def theme(self, value: str) -> None:
        if value not in THEMES:
            raise ValueError(f"theme must be one of {', '.join(THEMES)}")
        self._store.setValue("appearance/theme", value)

    @property
    def last_username(self) -> str:
        """Pre-filled in the sign-in dialog."""
        return str(self._store.value("login/last_username", ""))

    @last_username.setter
    def last_username(self, value: str) -> None:
        self._store.setValue("login/last_username", value)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved geometry and dock/toolbar state of the main window."""
        geometry = self._store.value("window/geometry")
        state = self._store.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        """Remember the window's geometry and dock layout."""
        self._store.setValue("window/geometry", geometry)
        self._store.setValue("window/state", state)

    def sync(self) -> None:
        """Write to disk now."""
        self._store.sync()
