"""docker-compose.yml, checked statically (Docker does not run in CI).

The stack must be reproducible (exact image tags), observable (a healthcheck
on every long-running service), private (ports on 127.0.0.1 only) and free of
committed secrets (every credential comes from .env, documented in .env.example).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from steward import paths

COMPOSE_FILE = paths.project_root() / "docker-compose.yml"
ENV_EXAMPLE = paths.project_root() / ".env.example"
AIRFLOW_IMAGE = "apache/airflow:3.3.2-python3.11"
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
VARIABLE = re.compile(r"(?<!\$)\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")
# name:tag with a tag that names a release (digits), never latest or a bare major.
EXACT_TAG = re.compile(r"^[\w./-]+:\d+\.\d+(\.\d+)?[\w.-]*$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _one_shot(name: str, services: dict) -> bool:
    """A service others wait on to *finish* (an init job), not to stay healthy."""
    return any(
        (other.get("depends_on") or {}).get(name, {}).get("condition")
        == "service_completed_successfully"
        for other in services.values()
        if isinstance(other.get("depends_on"), dict)
    )


def _environment(service: dict) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {key: str(value) for key, value in environment.items()}


def test_the_stack_has_its_services(services):
    assert {"warehouse", "airflow-metadata", "airflow-init", "redis"} | AIRFLOW_SERVICES <= set(
        services
    )


def test_airflow_runs_the_celery_executor_on_redis(services):
    redis_url = re.compile(r"^redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/\d+$")
    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        environment = _environment(services[name])
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert redis_url.match(environment["AIRFLOW__CELERY__BROKER_URL"]), name
        # Results in Airflow's metadata database, not in the broker.
        assert environment["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://"), name
        assert "@airflow-metadata:5432/" in environment["AIRFLOW__CELERY__RESULT_BACKEND"], name
    for name in AIRFLOW_SERVICES:
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name


def test_redis_is_password_protected_and_not_published(services):
    redis = services["redis"]
    assert "--requirepass" in redis["command"]
    assert "ports" not in redis
    assert redis["healthcheck"]["test"][-2:] == ["redis-cli", "ping"]
    assert VARIABLE.fullmatch(_environment(redis)["REDISCLI_AUTH"])


def test_celery_workers_scale_and_report_health(services):
    worker = services["airflow-worker"]
    assert worker["command"] == ["celery", "worker"]
    # `docker compose up --scale airflow-worker=N` needs no fixed name and no published port.
    assert "container_name" not in worker
    assert "ports" not in worker
    probe = " ".join(worker["healthcheck"]["test"])
    assert "celery_executor.app inspect ping" in probe
    assert "${AIRFLOW_WORKER_CONCURRENCY" in COMPOSE_FILE.read_text()


def test_the_celery_provider_is_a_pinned_dependency():
    import tomllib

    project = tomllib.loads((paths.project_root() / "pyproject.toml").read_text())["project"]
    pinned = [d for d in project["dependencies"] if d.startswith("apache-airflow-providers-celery")]
    assert len(pinned) == 1 and re.fullmatch(r"apache-airflow-providers-celery==[\d.]+", pinned[0])
    constraints = (paths.project_root() / "constraints.txt").read_text().splitlines()
    assert pinned[0] in constraints


def test_every_image_is_pinned_to_an_exact_release(services):
    for name, service in services.items():
        image = service.get("image")
        assert image, f"{name} has no image"
        assert EXACT_TAG.match(image), f"{name}: {image} is not pinned to an exact release"


def test_airflow_is_built_on_the_pinned_official_image(services):
    for name in AIRFLOW_SERVICES | {"airflow-init"}:
        dockerfile = services[name]["build"]["dockerfile_inline"]
        bases = re.findall(r"^FROM\s+(\S+)", dockerfile, flags=re.MULTILINE)
        assert bases == [AIRFLOW_IMAGE], name
        # The image installs Steward's locked dependencies, not whatever is newest.
        assert "-c /opt/steward-build/constraints.txt" in dockerfile, name


def test_every_postgres_is_a_pinned_postgres_16(services):
    for name in ("warehouse", "airflow-metadata"):
        assert re.fullmatch(r"postgres:16\.\d+", services[name]["image"]), name


def test_every_long_running_service_has_a_healthcheck(services):
    for name, service in services.items():
        if _one_shot(name, services):
            assert service.get("restart") == "no", name
            continue
        test = (service.get("healthcheck") or {}).get("test")
        assert test, f"{name} has no healthcheck"


def test_published_ports_are_bound_to_loopback(services):
    published = 0
    for name, service in services.items():
        for port in service.get("ports", []):
            published += 1
            if isinstance(port, dict):
                assert port.get("host_ip") == "127.0.0.1", f"{name}: {port}"
            else:
                assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
    assert published, "nothing is published: the UI would be unreachable"


def test_no_credential_is_written_in_the_file(services):
    secret_words = ("PASSWORD", "SECRET", "FERNET", "KEY")
    for name, service in services.items():
        for key, value in _environment(service).items():
            if any(word in key for word in secret_words) and key != "AIRFLOW__CORE__AUTH_MANAGER":
                assert VARIABLE.fullmatch(value.strip()), f"{name}.{key} is written in the file"
            # URLs carry credentials: their user:password@ part must be variables only.
            for credentials in re.findall(r"://([^@/]+)@", VARIABLE.sub("", value)):
                assert credentials == ":", f"{name}.{key} has literal credentials"


def test_secrets_are_required_not_defaulted(services):
    text = COMPOSE_FILE.read_text()
    for match in VARIABLE.finditer(text):
        name = match.group(1)
        if any(word in name for word in ("PASSWORD", "SECRET", "FERNET")):
            assert ":?" in match.group(0), f"{name} must fail loudly when unset"


def test_every_variable_is_documented_in_env_example():
    used = set(VARIABLE.findall(COMPOSE_FILE.read_text()))
    documented = {
        line.split("=", 1)[0].strip()
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    }
    assert used - documented == set(), "variables missing from .env.example"
    assert documented - used == set(), ".env.example documents unused variables"


def test_env_example_holds_no_real_secret():
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.lstrip().startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        if any(word in key for word in ("PASSWORD", "SECRET", "FERNET")):
            assert value.strip() == "change-me", key


def test_airflow_services_run_this_project_against_the_warehouse(services):
    for name in AIRFLOW_SERVICES:
        service = services[name]
        mounts = {volume.split(":")[1] for volume in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/dbt_project"} <= mounts
        environment = _environment(service)
        assert environment["STEWARD_DATABASE_URL"].startswith("postgresql://")
        assert environment["AIRFLOW_CONN_STEWARD_WAREHOUSE"].startswith("postgres://")
        assert "@warehouse:5432/" in environment["AIRFLOW_CONN_STEWARD_WAREHOUSE"]
        assert environment["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"


def test_gitignore_keeps_env_out_of_git():
    ignored = Path(paths.project_root() / ".gitignore").read_text().splitlines()
    assert ".env" in ignored


def test_cosmos_and_task_supervisors_are_configured_as_on_one_machine(services, tmp_path):
    """The stack's Cosmos and task-supervisor settings are the local ones (`steward
    airflow env`), except the cache folder: a setting that makes parsing, the producer
    or a task's end cheap locally must not be forgotten in production."""
    from steward.airflow import bootstrap

    local = {
        key: value
        for key, value in bootstrap.airflow_environment(
            url="postgresql://steward@localhost/steward", home=tmp_path
        ).items()
        if key.startswith(("AIRFLOW__COSMOS__", "AIRFLOW__WORKERS__"))
        and key != "AIRFLOW__COSMOS__CACHE_DIR"
    }
    assert local["AIRFLOW__COSMOS__ENABLE_CACHE_DBT_YAML_SELECTORS"] == "False"
    assert local["AIRFLOW__WORKERS__MIN_HEARTBEAT_INTERVAL"] == "1"
    for name in AIRFLOW_SERVICES:
        environment = _environment(services[name])
        assert {key: environment.get(key) for key in local} == local, name
