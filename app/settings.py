"""Where the window's settings live between runs (QSettings), and reading them safely."""
from __future__ import annotations

import os

from PySide6.QtCore import QSettings

SETTINGS_ENV = "MOBILEFAN_SETTINGS"        # an .ini path: tests and portable installs


def load_settings() -> QSettings:
    path = os.environ.get(SETTINGS_ENV)
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "MobileFAN", "MobileFAN Live")


def setting(settings: QSettings, key: str, default, kind=None):
    """A stored value as `kind`, or `default` when it is missing or unreadable (a hand-edited file)."""
    value = settings.value(key, default)
    if kind is bool:
        return value if isinstance(value, bool) else str(value).lower() in ("true", "1")
    try:
        return kind(value) if kind else value
    except (TypeError, ValueError):
        return default
