"""Reads settings from the environment and reports every problem at once.

Values come from `NAME` or, for secrets mounted by Docker or Kubernetes, from the file named
by `NAME_FILE` (its trailing newline stripped). A settings module reads everything it needs
through `config`, then calls `config.raise_if_invalid()`: the process stops before serving with
one message that lists each missing or invalid variable.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable
from typing import Any, TypeVar

import environ
from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

NOT_SET: Any = environ.Env.NOTSET


class ConfigurationError(ImproperlyConfigured):
    """The environment does not describe a runnable service; the message lists every problem."""


class SecretFileMapping(environ.FileAwareMapping):
    """`os.environ` where `NAME_FILE` supplies `NAME`; setting both is refused."""

    def __getitem__(self, key: str) -> str:
        path = self.env.get(f"{key}_FILE")
        if not path:
            return str(self.env[key])
        if key in self.env:
            raise ImproperlyConfigured(f"both {key} and {key}_FILE are set; set only one")
        try:
            with open(path, encoding="utf-8") as secret:
                return secret.read().rstrip("\r\n")
        except OSError as error:
            raise ImproperlyConfigured(f"{key}_FILE={path} cannot be read ({error.strerror})") from None

    def __contains__(self, key: object) -> bool:
        return key in self.env or f"{key}_FILE" in self.env


class Config:
    """django-environ's typed readers, collecting errors instead of raising the first one."""

    def __init__(self, environ_mapping: Any = None) -> None:
        self._env = environ.Env()
        self._env.ENVIRON = SecretFileMapping(os.environ if environ_mapping is None else environ_mapping)
        self.problems: builtins.dict[builtins.str, builtins.str] = {}

    def _read(self, reader: Callable[..., T], name: builtins.str, default: Any, **kwargs: Any) -> T:
        try:
            return reader(name, default=default, **kwargs)
        except ImproperlyConfigured as error:
            message = str(error)
            if message.startswith("Set the "):
                message = f"required: set {name} or {name}_FILE"
            self.problems[name] = message
        except (ValueError, TypeError) as error:
            self.problems[name] = f"invalid value ({error})"
        return default if default is not NOT_SET else None  # type: ignore[return-value]

    def str(self, name: builtins.str, default: Any = NOT_SET) -> Any:
        return self._read(self._env.str, name, default)

    def bool(self, name: builtins.str, default: Any = NOT_SET) -> Any:
        value = self.str(name, default)
        if isinstance(value, builtins.bool) or value is None:
            return value
        normalized = value.strip().lower()
        if normalized in {"1", "true", "yes", "on"}:
            return True
        if normalized in {"0", "false", "no", "off", ""}:
            return False
        self.problems[name] = f"invalid value {value!r}: use true or false"
        return default if default is not NOT_SET else False

    def int(
        self,
        name: builtins.str,
        default: Any = NOT_SET,
        minimum: builtins.int | None = None,
        maximum: builtins.int | None = None,
    ) -> Any:
        value = self._read(self._env.int, name, default)
        if value is not None and minimum is not None and value < minimum:
            self.problems[name] = f"invalid value {value}: must be at least {minimum}"
        if value is not None and maximum is not None and value > maximum:
            self.problems[name] = f"invalid value {value}: must be at most {maximum}"
        return value

    def float(self, name: builtins.str, default: Any = NOT_SET) -> Any:
        return self._read(self._env.float, name, default)

    def list(self, name: builtins.str, default: Any = NOT_SET) -> Any:
        return [item for item in self._read(self._env.list, name, default) or [] if item]

    def json(self, name: builtins.str, default: Any = NOT_SET) -> Any:
        return self._read(self._env.json, name, default)

    def url(self, name: builtins.str, schemes: tuple[builtins.str, ...], default: Any = NOT_SET) -> Any:
        value = self.str(name, default)
        if value and value.split("://", 1)[0] not in schemes:
            self.problems[name] = f"invalid URL {redact(value)!r}: the scheme must be one of {', '.join(schemes)}"
            return None
        return value

    def db_url(self, name: builtins.str, default: Any = NOT_SET) -> builtins.dict[builtins.str, Any]:
        url = self.url(name, ("postgres", "postgresql", "pgsql"), default)
        return self._env.db_url_config(url) if url else {}

    def email_url(self, name: builtins.str, default: Any = NOT_SET) -> builtins.dict[builtins.str, Any]:
        url = self.str(name, default)
        try:
            return self._env.email_url_config(url) if url else {}
        except (ImproperlyConfigured, KeyError, ValueError):
            self.problems[name] = f"invalid email URL {redact(url)!r}"
            return {}

    def require(self, name: builtins.str, ok: builtins.bool, problem: builtins.str) -> None:
        if not ok and name not in self.problems:
            self.problems[name] = problem

    def raise_if_invalid(self, settings_module: builtins.str) -> None:
        if self.problems:
            lines = "\n".join(f"  - {name}: {problem}" for name, problem in sorted(self.problems.items()))
            raise ConfigurationError(
                f"The environment is not valid for {settings_module} "
                f"({len(self.problems)} problem{'s' if len(self.problems) > 1 else ''}):\n{lines}"
            )


def redact(url: str) -> str:
    """The URL with any password replaced, safe to print."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not sep or not at or ":" not in credentials:
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


config = Config()
