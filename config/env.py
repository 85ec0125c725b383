"""Strict readers for settings that come from the environment.

A value that is present but malformed stops start-up with a message that names the variable,
what was found and what is accepted: a typo in production must not silently fall back to a
default.
"""

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    items = [item.strip() for item in raw.split(",")]
    if any(not item for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item; separate hosts by commas.")
    return items


_RATE = re.compile(r"\s*([1-9][0-9]*)\s*/\s*(second|minute|hour|day|sec|min|s|m|h|d)\s*")


def env_rate(name: str, default: str) -> str:
    """A request rate as DRF throttles read it: ``<count>/<second|minute|hour|day>``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    match = _RATE.fullmatch(raw)
    if not match:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate; write it as a count per period, e.g. 60/hour "
            "(periods: second, minute, hour, day)."
        )
    return f"{match.group(1)}/{match.group(2)}"


_PG_SCHEMES = {"postgres", "postgresql", "pgsql"}


def parse_database_url(url: str, *, base_dir: Path) -> dict:
    """Turn ``postgres://user:pass@host:port/name?opt=v`` or ``sqlite:///path`` into DATABASES.

    Relative SQLite paths are taken from the project directory, so the embedded default works
    whatever the current directory is.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL={url!r} is malformed: {exc}.") from None
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path or path == "/":
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r}: write SQLite as sqlite:///relative.db or "
                "sqlite:////absolute/path.db."
            )
        name = Path(path[1:])  # sqlite:///rel.db -> rel.db; sqlite:////abs.db -> /abs.db
        if not name.is_absolute():
            name = base_dir / name
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(name)}
    if parts.scheme in _PG_SCHEMES:
        name = unquote(parts.path.lstrip("/"))
        if not name or "/" in name:
            raise ImproperlyConfigured(
                f"DATABASE_URL={url!r} needs exactly one database name after the host."
            )
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "OPTIONS": dict(parse_qsl(parts.query)),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL={url!r} has scheme {parts.scheme!r}; use postgres:// or sqlite:///."
    )


def check_redis_url(url: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError as exc:
        raise ImproperlyConfigured(f"REDIS_URL={url!r} is malformed: {exc}.") from None
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"REDIS_URL={url!r}: use redis://host:port/db (or rediss:// for TLS)."
        )
    return url
