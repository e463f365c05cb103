"""The page server's settings as Streamlit itself reads them from .streamlit/config.toml."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_streamlit_reads_the_projects_server_settings():
    from streamlit import config

    here = os.getcwd()
    os.chdir(ROOT)  # Streamlit reads ./.streamlit/config.toml, as `streamlit run` from the project does
    try:
        config.get_config_options(force_reparse=True)
        # No full garbage collection after every script run: during Play each visitor's page reruns twice
        # a second, and that pass took half of the server's CPU with four visitors (bench/bench_serving.py).
        assert config.get_option("runner.postScriptGC") is False
        assert config.get_option("server.maxUploadSize") == 10
        assert config.get_option("browser.gatherUsageStats") is False
    finally:
        os.chdir(here)
        config.get_config_options(force_reparse=True)
