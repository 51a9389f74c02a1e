"""One registry mechanism for everything a saved model names: activations, initializers,
layers (models included), losses, metrics, optimizers and learning-rate schedules.

Each kind has one ``Registry`` holding its built-in objects by name (with aliases); the
kind's module keeps its Keras-style ``get`` / ``serialize`` / ``deserialize`` on top of it.
User classes join with ``@tc.saving.register_serializable(package="my_app")``: a
registered Layer, Model, Loss, Metric, Optimizer, schedule or Initializer subclass is then
written as ``"my_app>ClassName"`` with its ``get_config()`` and rebuilt with
``from_config`` -- only classes registered in the loading program can be created, so a file
never names arbitrary code to run.
"""

from __future__ import annotations

from typing import Any, Iterable

_CUSTOM: dict[str, type] = {}   # "package>Name" -> a user class (of any kind)


def register_serializable(package: str = "Custom", name: str | None = None):
    """Decorator registering a class (or, for activations, a function) under
    "package>name" (name defaults to its __name__)."""
    if not isinstance(package, str) or not package or ">" in package:
        raise ValueError(f"register_serializable: package must be a non-empty string without "
                         f"'>'. Received: package={package!r}")

    def decorate(cls: type) -> type:
        key = f"{package}>{name or cls.__name__}"
        existing = _CUSTOM.get(key)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ValueError(f"register_serializable: {key!r} is already registered to "
                             f"{existing.__module__}.{existing.__qualname__}")
        _CUSTOM[key] = cls
        cls._registered_name = key
        return cls

    return decorate


def registered_name(cls: type) -> str | None:
    """The key `cls` itself was registered under (not a parent's), or None."""
    key = cls.__dict__.get("_registered_name")
    return key if key is not None and _CUSTOM.get(key) is cls else None


def get_registered(key: str) -> type | None:
    """The user class registered under `key`, or None."""
    return _CUSTOM.get(key)


class Registry:
    """The objects of one kind by name: built-ins (classes or functions, with aliases) and
    the user classes registered with ``register_serializable`` that subclass ``base``."""

    def __init__(self, kind: str, base: type | None = None) -> None:
        self.kind = kind
        self.base = base     # user classes of this kind subclass it (None: functions)
        self._by_name: dict[str, Any] = {}
        self._aliases: dict[str, str] = {}

    def add(self, name: str, obj: Any, aliases: Iterable[str] = ()) -> Any:
        """Register built-in `obj` under `name` (and `aliases`); returns obj."""
        for key in (name, *aliases):
            if key in self._by_name or key in self._aliases:
                raise ValueError(f"{self.kind} registry: {key!r} is already registered")
        self._by_name[name] = obj
        for alias in aliases:
            self._aliases[alias] = name
        return obj

    def canonical(self, name: Any) -> str | None:
        """The canonical name for a name or an alias of a built-in, or None."""
        if not isinstance(name, str):
            return None
        if name in self._by_name:
            return name
        return self._aliases.get(name)

    def _belongs(self, obj: Any) -> bool:
        if self.base is None:
            return callable(obj) and not isinstance(obj, type)
        return isinstance(obj, type) and issubclass(obj, self.base)

    def _custom(self, name: Any) -> Any:
        obj = _CUSTOM.get(name) if isinstance(name, str) else None
        return obj if obj is not None and self._belongs(obj) else None

    def lookup(self, name: Any) -> Any:
        """The built-in registered under a name or alias, else the user class registered
        under "package>Name" (if it is of this kind), else None."""
        canonical = self.canonical(name)
        return self._by_name[canonical] if canonical is not None else self._custom(name)

    def name_of(self, obj: Any) -> str | None:
        """The name `obj` is saved under: a built-in itself, the class of a built-in's
        instance (exact type), or a registered user class (or its instance); else None."""
        for name, entry in self._by_name.items():
            if entry is obj or (isinstance(entry, type) and type(obj) is entry):
                return name
        for candidate in (obj, type(obj)):
            key = registered_name(candidate) if hasattr(candidate, "__dict__") else None
            if key is not None and self._belongs(candidate):
                return key
        return None

    def names(self) -> list[str]:
        """The canonical names of the built-ins, sorted."""
        return sorted(self._by_name)

    def all_names(self) -> list[str]:
        """Names and aliases of the built-ins, sorted."""
        return sorted(set(self._by_name) | set(self._aliases))

    def serialize(self, instance: Any) -> dict | None:
        """``{"class_name": name, "config": instance.get_config()}``, or None when the
        instance is of no registered class (the kind's module raises its own error)."""
        name = self.name_of(instance)
        if name is None or isinstance(instance, type):
            return None
        return {"class_name": name, "config": instance.get_config()}

    def deserialize(self, config: Any) -> Any:
        """The instance described by serialize()'s output (``from_config``), or None when
        the class name is unknown."""
        name = config.get("class_name") if isinstance(config, dict) else None
        cls = self.lookup(name)
        if cls is None or not isinstance(cls, type):
            return None
        return cls.from_config(config.get("config", {}))
