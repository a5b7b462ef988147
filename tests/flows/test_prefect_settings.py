"""The settings flows run under, and the retrain deployment's schedule and parameters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHOW = ("import json; from ganaudio.orchestration.prefect_settings import defaults; "
        "print(json.dumps({s.name: v for s, v in defaults().items()}))")


def _defaults(**env) -> dict:
    # Prefect reads its settings once, at import: each case needs a fresh process.
    clean = {k: v for k, v in os.environ.items()
             if k not in ("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "PREFECT_SERVER_ANALYTICS_ENABLED")}
    out = subprocess.run([sys.executable, "-c", SHOW], env={**clean, **env}, cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_flows_wait_longer_for_the_temporary_server_and_send_no_telemetry_unless_told_otherwise(tmp_path):
    from ganaudio.orchestration.prefect_settings import STARTUP_TIMEOUT_S

    home = {"PREFECT_HOME": str(tmp_path)}
    assert _defaults(**home) == {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": STARTUP_TIMEOUT_S,
                                 "PREFECT_SERVER_ANALYTICS_ENABLED": False}
    # A value the user set (environment or profile) is theirs: left alone.
    assert _defaults(**home, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="600",
                     PREFECT_SERVER_ANALYTICS_ENABLED="true") == {}


def test_the_schedule_takes_cron_and_timezone_from_params(tmp_path):
    from flows.retrain import schedule
    from ganaudio.config import ConfigError

    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"retrain": {"cron": "30 4 * * *", "timezone": "Europe/Berlin"}}))
    s = schedule(params)
    assert s.cron == "30 4 * * *" and s.timezone == "Europe/Berlin"
    params.write_text(yaml.safe_dump({"retrain": {"timezone": "Mars/Olympus"}}))
    with pytest.raises(ConfigError, match="'retrain.timezone' is 'Mars/Olympus'"):
        schedule(params)


def test_the_deployment_fixes_the_workspace_not_the_gans(tmp_path, monkeypatch):
    """gans are read from params.yaml when each scheduled run starts, unless --gan pins them."""
    import flows.retrain as retrain_module
    from prefect.settings import PREFECT_API_URL, temporary_settings

    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"retrain": {"cron": "0 3 * * 1"}}))
    served = []
    monkeypatch.setattr(retrain_module.retrain, "serve", lambda **kw: served.append(kw))
    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        assert retrain_module.main(["--serve", "--workspace", str(tmp_path)]) == 0
        assert retrain_module.main(["--serve", "--workspace", str(tmp_path), "--gan", "pianogan"]) == 0
    assert served[0]["parameters"] == {"workspace": str(tmp_path.resolve())}
    assert served[1]["parameters"]["gans"] == ["pianogan"]
    assert served[0]["schedule"].cron == "0 3 * * 1" and served[0]["schedule"].timezone == "UTC"
