"""Import a module of a large SDK without running the ``__init__`` of every package above it.

``import anthropic`` loads 3,500 modules (about 55 MB), most of them beta types, because the
package's ``__init__`` re-exports everything and Python runs a package's ``__init__``
before any module inside it. claw uses one client class and the exception classes.
Under ``import_deferred``, each package of the SDK is created without running its
``__init__``; the ``__init__`` runs when an attribute is first asked of the package
and is not one of its submodules. When the ``__init__`` only re-exports names from
its own submodules (as generated SDKs' ``types`` packages do), just the submodule
that defines the asked name is imported. Asked for anything else, a package runs its
whole ``__init__`` as Python would have, so the SDK behaves the same, only later. (What a
top-level ``__init__`` sets up, such as the SDK's ``ANTHROPIC_LOG`` switch, waits until then.)
"""

from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

_lock = threading.RLock()


def import_deferred(name: str) -> ModuleType:
    """Import ``name`` (``"anthropic._client"``) with the packages of its top-level package deferred.

    If that package is already imported, this is a plain import: nothing is left to save.
    """
    top = name.partition(".")[0]
    with _lock:
        if top not in sys.modules and not any(isinstance(f, _Finder) and f.top == top for f in sys.meta_path):
            sys.meta_path.insert(0, _Finder(top))
    return importlib.import_module(name)


def reexports(source: str) -> dict[str, tuple[str | None, str]] | None:
    """``{name: (submodule, attribute)}`` for an ``__init__`` that does nothing but ``from .sub import
    name`` (plus ``__future__``, a docstring and ``__all__``); None for any other ``__init__``."""
    names: dict[str, tuple[str | None, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        if isinstance(node, ast.ImportFrom) and node.level == 1 and all(a.name != "*" for a in node.names):
            for alias in node.names:
                names[alias.asname or alias.name] = (node.module, alias.name)
            continue
        return None
    return names


class _Finder(importlib.abc.MetaPathFinder):
    """Finds the packages under ``top`` as usual and hands them to a ``_DeferredInit`` loader."""

    def __init__(self, top: str):
        self.top = top

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None) -> Any:
        if fullname != self.top and not fullname.startswith(self.top + "."):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if (spec is not None and spec.submodule_search_locations and spec.origin and spec.origin.endswith(".py")
                and spec.loader is not None):
            spec.loader = _DeferredInit(spec.loader)
        return spec


class _DeferredInit(importlib.abc.Loader):
    def __init__(self, real: importlib.abc.Loader):
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        real = self.real
        names = reexports(Path(str(module.__file__)).read_text(encoding="utf-8"))

        def __getattr__(attr: str) -> Any:
            prefix = module.__name__ + "."
            if names is not None and attr in names:
                sub, name = names[attr]
                value = getattr(importlib.import_module(prefix + sub), name) if sub else importlib.import_module(
                    prefix + name)
            elif not attr.startswith("__") and importlib.machinery.PathFinder.find_spec(prefix + attr, module.__path__):
                value = importlib.import_module(prefix + attr)  # a submodule: what ``from . import x`` asks
            elif attr.startswith("__") and attr != "__all__":
                raise AttributeError(attr)  # probes by the import system and inspect: nothing to run for
            else:
                with _lock:
                    if module.__dict__.pop("__getattr__", None) is not None:
                        real.exec_module(module)  # the whole __init__, once
                return getattr(module, attr)
            setattr(module, attr, value)
            return value

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
