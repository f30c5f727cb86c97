"""The image (infra/docker/Dockerfile) parsed without a Docker engine: multi-stage, the web
apps' vendor assets built by npm and copied into the final stage, a non-root user, a
HEALTHCHECK, and a build context that leaves out what the image must not carry."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys

from dockerfile_parse import DockerfileParser

from infra.healthcheck import urls

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCKERFILE = os.path.join(ROOT, "infra", "docker", "Dockerfile")


def _stages() -> list[list[dict]]:
    """The instructions of each stage, in order."""
    parser = DockerfileParser(path=DOCKERFILE)
    stages: list[list[dict]] = []
    for ins in parser.structure:
        if ins["instruction"] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _alias(stage: list[dict]) -> str:
    parts = stage[0]["value"].split()
    return parts[2] if len(parts) == 3 and parts[1].lower() == "as" else ""


def test_a_node_stage_runs_npm_ci_and_the_vendor_script() -> None:
    stages = _stages()
    web = next(s for s in stages if s[0]["value"].startswith("node:"))
    runs = [i["value"] for i in web if i["instruction"] == "RUN"]
    assert any(r.startswith("npm ci") for r in runs), runs
    assert any("npm run" in r and "vendor" in r for r in runs), runs
    # npm ci needs the lock file, the vendor script its source
    copies = " ".join(i["value"] for i in web if i["instruction"] == "COPY")
    assert "gateway/web/package-lock.json" in copies and "gateway/web/scripts" in copies


def test_the_final_stage_has_the_vendor_assets_the_code_and_a_non_root_user() -> None:
    stages = _stages()
    web_alias = _alias(next(s for s in stages if s[0]["value"].startswith("node:")))
    final = stages[-1]
    copies = [shlex.split(i["value"]) for i in final if i["instruction"] == "COPY"]
    assert [f"--from={web_alias}", "/web/vendor", "./gateway/web/vendor"] in copies
    for pkg in ("yiwang", "services", "gateway", "infra", "demo"):
        assert [pkg, f"./{pkg}"] in copies, pkg
    assert any(c[0] == "--from=build" and c[1] == "/opt/venv" for c in copies)
    users = [i["value"] for i in final if i["instruction"] == "USER"]
    assert users, "the final stage sets no USER (would run as root)"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert user.isdigit(), "numeric uid, so Kubernetes runAsNonRoot can verify it"
    workdir = [i["value"] for i in final if i["instruction"] == "WORKDIR"][-1]
    assert workdir == "/app"


def test_healthcheck_asks_the_gateway_or_the_service_probe() -> None:
    final = _stages()[-1]
    checks = [i["value"] for i in final if i["instruction"] == "HEALTHCHECK"]
    assert len(checks) == 1 and "infra.healthcheck" in checks[0]
    assert urls({"YIWANG_GATEWAY_PORT": "8000"}) == ["http://127.0.0.1:8000/live"]
    assert urls({"YIWANG_METRICS_PORT": "9100"})[1] == "http://127.0.0.1:9100/live"


def test_the_build_context_leaves_out_secrets_caches_and_local_state() -> None:
    with open(os.path.join(ROOT, ".dockerignore"), encoding="utf-8") as fh:
        ignored = {line.strip() for line in fh if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".env", "var", "**/node_modules", "gateway/web/vendor"} <= ignored
    # everything the Dockerfile copies from the context is still in it
    for ins in DockerfileParser(path=DOCKERFILE).structure:
        if ins["instruction"] == "COPY" and not ins["value"].startswith("--from"):
            for src in shlex.split(ins["value"])[:-1]:
                assert src not in ignored, src
                assert os.path.exists(os.path.join(ROOT, src)), src


def test_checkov_finds_nothing_in_the_dockerfile() -> None:
    checkov = os.path.join(os.path.dirname(sys.executable), "checkov")
    r = subprocess.run(
        [
            checkov,
            "-f",
            DOCKERFILE,
            "--framework",
            "dockerfile",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(r.stdout)
    assert report["results"]["failed_checks"] == [], report["results"]["failed_checks"]
    passed = {p["check_id"] for p in report["results"]["passed_checks"]}
    assert {"CKV_DOCKER_2", "CKV_DOCKER_3"} <= passed  # HEALTHCHECK, a non-root USER
