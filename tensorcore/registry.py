"""Registry of user classes (layers, models) that saved models may name.

``@tc.saving.register_serializable(package="my_app")`` on a Layer or Model subclass lets
``model.save`` write it as ``"my_app>ClassName"`` with its ``get_config()``, and
``load_model`` rebuild it with ``from_config`` -- only classes registered in the loading
program can be created, so a file never names arbitrary code to run.
"""

from __future__ import annotations

_REGISTRY: dict[str, type] = {}


def register_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator registering `cls` under "package>name" (name defaults to the class's)."""
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: package must be a non-empty string without "
                         f"'>'. Received: package={package!r}")

    def decorate(cls: type) -> type:
        key = f"{package}>{name or cls.__name__}"
        existing = _REGISTRY.get(key)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"register_serializable: {key!r} is already registered to "
                             f"{existing.__module__}.{existing.__qualname__}")
        _REGISTRY[key] = cls
        cls._registered_name = key
        return cls

    return decorate


def registered_name(cls: type) -> str | None:
    """The key `cls` itself was registered under (not a parent's), or None."""
    key = cls.__dict__.get("_registered_name")
    return key if key is not None and _REGISTRY.get(key) is cls else None


def get_registered(key: str) -> type | None:
    """The class registered under `key`, or None."""
    return _REGISTRY.get(key)
