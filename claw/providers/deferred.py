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

    If that package is already imported, this is a plain import: nothing is left to save. If the deferred
    import fails (an SDK whose modules need their package's ``__init__`` to have run), the SDK is imported
    again plainly, from scratch.
    """
    top = name.partition(".")[0]
    with _lock:
        if top in sys.modules or any(isinstance(f, _Finder) and f.top == top for f in sys.meta_path):
            return importlib.import_module(name)
        finder = _Finder(top)
        sys.meta_path.insert(0, finder)
        try:
            return importlib.import_module(name)
        except Exception:
            sys.meta_path.remove(finder)
            for loaded in [m for m in sys.modules if m == top or m.startswith(top + ".")]:
                del sys.modules[loaded]
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
        try:
            names = reexports(Path(str(module.__file__)).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):  # not a plain source file (a zip): no deferring
            real.exec_module(module)
            return
        lock = threading.RLock()
        state = {"ran": False, "running": 0}  # running: the thread running the __init__

        def __getattr__(attr: str) -> Any:
            prefix = module.__name__ + "."
            if names is not None and attr in names:
                sub, name = names[attr]
                value = getattr(importlib.import_module(prefix + sub), name) if sub else importlib.import_module(
                    prefix + name)
                setattr(module, attr, value)
                return value
            if not attr.startswith("__") and importlib.machinery.PathFinder.find_spec(prefix + attr, module.__path__):
                return importlib.import_module(prefix + attr)  # a submodule: what ``from . import x`` asks
            with lock:  # another thread asking meanwhile waits for the __init__, as it would for an import
                if state["running"] == threading.get_ident():
                    raise AttributeError(f"partially initialised module {module.__name__!r} has no {attr!r}")
                if not state["ran"]:
                    state["running"] = threading.get_ident()
                    try:
                        real.exec_module(module)  # the whole __init__, once
                    finally:
                        state["ran"], state["running"] = True, 0
            try:
                return module.__dict__[attr]
            except KeyError:
                own = module.__dict__.get("__getattr__")
                if own is not None and own is not __getattr__:
                    return own(attr)  # the __init__ defined its own (openai's lazy names)
                raise AttributeError(f"module {module.__name__!r} has no attribute {attr!r}") from None

        module.__getattr__ = __getattr__  # type: ignore[method-assign]
