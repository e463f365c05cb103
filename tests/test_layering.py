"""The rooms' import rules, each checked in a fresh interpreter (sys.modules starts clean there).

    rnn_core/      numpy only: no streamlit, no plotly
    ui/session/    no streamlit, no plotly (the session and its actions)
    ui/figures/    plotly, but no streamlit (pure builders)
    ui/panels/     the only code that imports streamlit (not checked here: it may import anything)
"""
from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def modules_of(package: str) -> list[str]:
    path = ROOT.joinpath(*package.split("."))
    found = [f"{package}.{m.name}" for m in pkgutil.walk_packages([str(path)])]
    assert found, f"no modules found under {path}"
    return [package] + found


def loaded_after_importing(modules: list[str]) -> set[str]:
    """The top-level page libraries in sys.modules after importing `modules` in a new interpreter."""
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & {'streamlit', 'plotly'})))")
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
    return set(out.stdout.split())


def test_engine_stays_free_of_page_libraries():
    assert loaded_after_importing(modules_of("rnn_core")) == set()


def test_session_imports_neither_streamlit_nor_plotly():
    mods = modules_of("ui.session")
    assert {"ui.session.session", "ui.session.compare", "ui.session.runs"} <= set(mods)
    assert loaded_after_importing(mods) == set()


def test_figures_import_plotly_but_not_streamlit():
    mods = modules_of("ui.figures")
    assert {"ui.figures.loss", "ui.figures.probe", "ui.figures.strips"} <= set(mods)
    assert loaded_after_importing(mods) == {"plotly"}


@pytest.mark.parametrize("room", ["ui.session", "ui.figures"])
def test_no_room_imports_the_panels(room):
    code = ("import importlib, sys\n"
            f"for m in {modules_of(room)!r}: importlib.import_module(m)\n"
            "assert not [m for m in sys.modules if m.startswith('ui.panels')], 'panels imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_the_panels_do_import_streamlit():
    """The check above would pass vacuously if the helper could not see streamlit at all."""
    assert loaded_after_importing(["ui.panels.common"]) >= {"streamlit"}
