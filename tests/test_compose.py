"""docker-compose.yml agrees with the local runner's process table (no Docker engine here)."""

from __future__ import annotations

import os

import yaml

from infra.processes import ALL, SHARED_ENV_KEYS
from yiwang.config import Settings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _compose() -> dict:
    with open(os.path.join(ROOT, "docker-compose.yml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def test_every_runner_process_is_a_compose_service_with_the_same_command() -> None:
    services = _compose()["services"]
    for spec in ALL:
        assert spec.name in services, spec.name
        assert services[spec.name]["command"] == ["python", *spec.argv[1:]], spec.name


def test_dependencies_and_trace_viewer_are_present() -> None:
    services = _compose()["services"]
    assert {"postgres", "rabbitmq", "redis", "jaeger", "migrate"} <= set(services)
    assert "15672:15672" in services["rabbitmq"]["ports"]  # management UI


def test_gateway_port_matches_settings_default() -> None:
    services = _compose()["services"]
    port = Settings().gateway_port
    assert f"{port}-{port + 1}:8000" in services["gateway"]["ports"]  # one per replica
    assert services["gateway"]["environment"]["YIWANG_GATEWAY_PORT"] == "8000"


def test_every_process_runs_two_replicas_and_services_serve_probes() -> None:
    services = _compose()["services"]
    for spec in ALL:
        assert services[spec.name]["deploy"]["replicas"] >= 2, spec.name
        assert "container_name" not in services[spec.name]  # a fixed name cannot scale
        assert services[spec.name]["environment"]["YIWANG_METRICS_PORT"] == "9100"
    assert "media:/var/lib/yiwang/media" in services["gateway"]["volumes"]


def test_every_process_gets_every_shared_setting_and_they_are_real_settings() -> None:
    services = _compose()["services"]
    fields = {f"YIWANG_{name.upper()}" for name in Settings.model_fields}
    for spec in ALL:
        env = services[spec.name]["environment"]
        for key in SHARED_ENV_KEYS:
            assert key in env, (spec.name, key)
            assert key in fields, key


def test_dockerfile_copies_every_package_the_processes_import() -> None:
    with open(os.path.join(ROOT, "infra", "docker", "Dockerfile"), encoding="utf-8") as fh:
        text = fh.read()
    for pkg in ("yiwang", "services", "gateway", "infra"):
        assert f"COPY {pkg} ./{pkg}" in text
