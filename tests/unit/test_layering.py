"""The layering the folders show: core/ and web/ import no server framework and no Streamlit.

Every import in stauth_server/core/ and stauth_server/web/ (relative ones resolved, lazy ones
inside functions included) is checked; and importing the core, in a fresh interpreter, does
not import Streamlit.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "stauth_server"
NEUTRAL = ("core", "web")

FORBIDDEN = (
    "tornado",
    "starlette",
    "uvicorn",
    "streamlit.web",
    "streamlit.runtime",
    "stauth_server.tornado",
    "stauth_server.streamlit",
    "stauth_server.cli",
    "stauth_server.patches",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, at module level) for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    top_level = set(map(id, tree.body))
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name, id(node) in top_level))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module, id(node) in top_level))
            # `from stauth_server import streamlit` names a subpackage, not an attribute
            for alias in node.names:
                found.append((node.lineno, f"{module}.{alias.name}", id(node) in top_level))
    return found


def _neutral_files() -> list[Path]:
    return sorted(p for layer in NEUTRAL for p in (PACKAGE / layer).rglob("*.py"))


def test_the_neutral_layers_exist():
    names = {str(p.relative_to(PACKAGE)) for p in _neutral_files()}
    assert {"core/signin.py", "core/config.py", "web/routes.py", "web/http.py"} <= names


@pytest.mark.parametrize("path", _neutral_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_and_web_import_no_framework_and_no_streamlit_internals(path):
    bad = []
    for line, module, top in _imports(path):
        if any(module == f or module.startswith(f + ".") for f in FORBIDDEN):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {module}")
        elif top and (module == "streamlit" or module.startswith("streamlit.")):
            bad.append(f"{path.relative_to(ROOT)}:{line}: {module} at import time")
    assert not bad, "layering broken:\n" + "\n".join(bad)


def test_the_checker_sees_relative_imports():
    tornado_side = PACKAGE / "tornado" / "server.py"
    modules = {m for _, m, _ in _imports(tornado_side)}
    assert "stauth_server.streamlit.internals" in modules  # `from ..streamlit import internals`


def test_importing_the_core_does_not_import_streamlit():
    code = (
        "import sys\n"
        "import stauth_server.core.signin, stauth_server.core.config, stauth_server.web.routes\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('streamlit', 'tornado', 'starlette', 'uvicorn'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)


def test_the_script_api_is_still_there_for_apps():
    code = (
        "import sys, stauth_server as sa\n"
        "assert 'streamlit' not in sys.modules\n"
        "assert sa.cookies is not None and sa.user is not None and 'streamlit' in sys.modules\n"
        "from stauth_server import redirect, require\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=60)
