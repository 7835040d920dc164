"""Steward's Airflow environment bounds how long a task supervisor holds a slot after its task."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from steward.airflow import bootstrap


def test_the_supervisor_notices_a_finished_task_within_a_second(tmp_path):
    # Read by Airflow's supervisor at import: check what it actually uses, in a
    # process with Steward's environment, not only that the variable is set.
    env = {**os.environ, **bootstrap.airflow_settings(tmp_path)}
    probe = (
        "import json; from airflow.sdk.execution_time import supervisor as s; "
        "print(json.dumps(s.MIN_HEARTBEAT_INTERVAL))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == 1
