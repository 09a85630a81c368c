"""Deferred package imports (``claw.providers.deferred``): the provider SDKs are imported only in part, and
what is imported behaves as it would have."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from claw.providers.deferred import import_deferred, reexports
from tests.harness import free_port

SDK = {
    "trace_log.py": "RAN = []\n",
    "sdk/__init__.py": """
        import trace_log
        trace_log.RAN.append("sdk")
        from .types import Thing
        from ._client import Client
        from .extra import *
        VERSION = "1"
    """,
    "sdk/_client.py": """
        import trace_log
        trace_log.RAN.append("sdk._client")
        from . import _errors
        from .types import Thing
        class Client:
            thing = Thing
            error = _errors.SDKError
    """,
    "sdk/_errors.py": "class SDKError(Exception):\n    pass\n",
    "sdk/extra.py": "__all__ = ['Extra']\nclass Extra:\n    pass\n",
    "sdk/types/__init__.py": '''
        """Types."""
        from __future__ import annotations
        from .thing import Thing as Thing
        from .other import Other
        from . import nested
        __all__ = ["Thing", "Other"]
    ''',
    "sdk/types/thing.py": "import trace_log\ntrace_log.RAN.append('sdk.types.thing')\nclass Thing:\n    pass\n",
    "sdk/types/other.py": "import trace_log\ntrace_log.RAN.append('sdk.types.other')\nclass Other:\n    pass\n",
    "sdk/types/nested.py": "import trace_log\ntrace_log.RAN.append('sdk.types.nested')\n",
    # a package whose module needs the package's __init__ to have run first
    "sdk/circular/__init__.py": "import trace_log\ntrace_log.RAN.append('sdk.circular')\nLEVEL = 2\n"
                                "from .user import User\n",
    "sdk/circular/user.py": "from . import LEVEL\nclass User:\n    level = LEVEL\n",
    # a slow __init__, asked for by two threads at once
    "sdk/slow/__init__.py": "import time, trace_log\ntrace_log.RAN.append('sdk.slow')\ntime.sleep(0.2)\nREADY = True\n",
}


@pytest.fixture
def sdk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A small SDK shaped like the generated ones; returns the log of which modules' code ran."""
    for name, text in SDK.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))
    for name in [m for m in sys.modules if m in ("trace_log", "sdk") or m.startswith("sdk.")]:
        monkeypatch.delitem(sys.modules, name)
    yield __import__("trace_log").RAN
    for name in [m for m in sys.modules if m in ("trace_log", "sdk") or m.startswith("sdk.")]:
        del sys.modules[name]


def test_a_module_is_imported_without_its_packages_init(sdk: list[str]) -> None:
    client = import_deferred("sdk._client")
    # the top package's __init__ did not run; of types, only the submodule defining Thing
    assert sdk == ["sdk._client", "sdk.types.thing"]
    assert client.Client.error.__name__ == "SDKError"  # ``from . import _errors`` found the submodule


def test_asking_a_package_for_anything_else_runs_its_init_once(sdk: list[str]) -> None:
    client = import_deferred("sdk._client")
    package = sys.modules["sdk"]
    assert package.VERSION == "1"
    assert package.Extra.__name__ == "Extra"  # its star import ran too
    assert package.Thing is client.Client.thing  # the same class, not a second copy
    assert package.VERSION == "1"
    assert sdk.count("sdk") == 1


def test_star_import_of_a_deferred_package_honours_its_all(sdk: list[str]) -> None:
    import_deferred("sdk._client")
    scope: dict[str, object] = {}
    exec("from sdk.types import *", scope)
    assert {"Thing", "Other"} <= scope.keys() and "nested" in sys.modules["sdk.types"].__dict__


def test_an_already_imported_package_is_imported_plainly(sdk: list[str]) -> None:
    __import__("sdk")
    finders = list(sys.meta_path)
    import_deferred("sdk._client")
    assert sys.meta_path == finders and sdk[0] == "sdk"


def test_a_module_that_needs_its_packages_init_is_imported_plainly(sdk: list[str]) -> None:
    user = import_deferred("sdk.circular.user")
    assert user.User.level == 2 and sys.modules["sdk"].VERSION == "1"  # a plain import, from scratch
    assert not any(getattr(f, "top", None) == "sdk" for f in sys.meta_path)  # the finder is gone


def test_threads_asking_during_the_init_wait_for_it(sdk: list[str]) -> None:
    import_deferred("sdk._client")
    slow = importlib.import_module("sdk.slow")
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(slow.READY)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert got == [True] * 4 and sdk.count("sdk.slow") == 1


def test_only_pure_reexports_are_resolved_name_by_name() -> None:
    pure = '"""doc"""\nfrom __future__ import annotations\nfrom .a import A as B\nfrom .c.d import E\n' \
           'from . import f\n__all__ = ["B"]\n'
    assert reexports(pure) == {"B": ("a", "A"), "E": ("c.d", "E"), "f": (None, "f")}
    for impure in ("from .a import *\n", "import os\n", "from .a import A\nA.x = 1\n", "from os import path\n"):
        assert reexports(impure) is None


PROBE = """
import asyncio, json, sys
from claw.providers.base import Message, Prompt, ProviderSettings, LLMError
from claw.providers.{module} import {provider}
from tests.fakes.llm import Error, FakeLLM, Reply
fake = FakeLLM(port={port}).start()
settings = ProviderSettings(api_key="test-key-1234", base_url=fake.{url}, max_retries=0)
provider = {provider}(settings)
async def main():
    if {eager}:
        provider.sdk._import = lambda: (__import__("{module}"),) * 2
    fake.script(Reply(text="hi"), Reply(text="at length"), Error(401))
    prompt = Prompt(system="s", messages=[Message(role="user", text="hello")])
    first = await provider.complete(prompt)
    long = await provider.complete(Prompt(system="s", messages=prompt.messages, max_tokens=20_000))  # streamed
    try:
        await provider.complete(prompt)
        refused = ""
    except LLMError as exc:
        refused = exc.reason
    await provider.close()
    return first.text + " / " + long.text, refused
text, refused = asyncio.run(main())
fake.stop()
print(json.dumps([text, refused, sum(m.split(".")[0] == "{module}" for m in sys.modules)]))
"""


@pytest.mark.parametrize(("module", "provider", "url"), [("anthropic", "AnthropicProvider", "url"),
                                                          ("openai", "OpenAIProvider", "openai_url")])
def test_a_provider_imports_a_small_part_of_its_sdk(module: str, provider: str, url: str) -> None:
    """Through the real SDK against the fake: a reply and a refused key read the same as with the whole SDK
    imported, and well under half its modules are loaded (turning the deferral off fails this)."""
    runs, port = {}, free_port()
    for eager in (False, True):
        code = PROBE.format(module=module, provider=provider, url=url, eager=eager, port=port)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                             cwd=Path(__file__).parent.parent)
        assert out.returncode == 0, out.stderr[-2000:]
        runs[eager] = json.loads(out.stdout.splitlines()[-1])
    (text, refused, lean), (eager_text, eager_refused, whole) = runs[False], runs[True]
    assert (text, refused) == (eager_text, eager_refused) and text == "hi / at length" and "rejected" in refused
    assert lean < whole / 2, (lean, whole)
