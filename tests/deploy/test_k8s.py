"""deploy/k8s without a cluster: rendered (a small loader, checked against ``kubectl
kustomize`` when installed), validated against the Kubernetes schemas (kubernetes-validate)
and checkov, and held to what the processes really are (commands, probes, ports, settings,
measured memory)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from typing import Any

import kubernetes_validate
import pytest
import yaml

from infra.processes import ALL, GATEWAY
from tests.deploy.kustomize_lite import render
from yiwang.config import Settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "deploy", "k8s")
BASE = os.path.join(K8S, "base")
DEMO = os.path.join(K8S, "overlays", "demo")
# schemas of the oldest Kubernetes we support and of the newest the package knows
K8S_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
# RSS under load, MB (README, "Figures measured"): requests must cover it
MEASURED_RSS_MB = {
    "command": 130,
    "gateway": 135,
    "grids": 146,
    "petitions": 117,
    "volunteers": 104,
    "enterprise": 104,
}
NON_SETTINGS_ENV = {"YIWANG_ADMIN_PASSWORD"}  # read by gateway.security.bootstrap_admin only


def mib(q: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(Ki|Mi|Gi)?", q)
    assert m, q
    return float(m.group(1)) * {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024, None: 1 / 2**20}[m.group(2)]


def cpu(q: str) -> float:
    return float(q[:-1]) / 1000 if q.endswith("m") else float(q)


@pytest.fixture(scope="module")
def base() -> list[dict[str, Any]]:
    return render(BASE)


@pytest.fixture(scope="module")
def demo() -> list[dict[str, Any]]:
    return render(DEMO)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_specs(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out = {}
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            out[f"{d['kind']}/{d['metadata']['name']}"] = d["spec"]["template"]["spec"]
    return out


def _key(d: dict[str, Any]) -> tuple[str, str, str]:
    return d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
@pytest.mark.parametrize("path", [BASE, DEMO])
def test_the_loader_renders_what_kubectl_kustomize_renders(path: str) -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", path], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    theirs = {_key(d): d for d in yaml.safe_load_all(out) if d}
    ours = {_key(d): d for d in render(path)}
    assert ours == theirs


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_is_valid_against_the_kubernetes_schemas(base, demo, version) -> None:  # type: ignore[no-untyped-def]
    for doc in [*base, *demo]:
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any unknown field


def test_the_loader_and_validator_do_fail_on_a_broken_object(base) -> None:  # type: ignore[no-untyped-def]
    broken = json.loads(json.dumps(by_kind(base, "Deployment")["gateway"]))
    broken["spec"]["template"]["spec"]["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSIONS[0], strict=True)


def test_checkov_passes_and_every_skip_is_justified() -> None:
    checkov = os.path.join(os.path.dirname(sys.executable), "checkov")
    r = subprocess.run(
        [
            checkov,
            "-d",
            K8S,
            "--framework",
            "kubernetes",
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
    assert report["summary"]["parsing_errors"] == 0
    failed = [
        (f["check_id"], f["resource"], f["file_path"]) for f in report["results"]["failed_checks"]
    ]
    assert failed == [], failed
    assert r.returncode == 0
    passed = {(p["check_id"], p["resource"]) for p in report["results"]["passed_checks"]}
    # the checks that matter were evaluated on every workload, not silently skipped
    for name in [s.name for s in ALL]:
        for check in (
            "CKV_K8S_8",
            "CKV_K8S_9",
            "CKV_K8S_22",
            "CKV_K8S_20",
            "CKV_K8S_40",
            "CKV_K8S_13",
            "CKV_K8S_11",
        ):
            assert (check, f"Deployment.yiwang.{name}") in passed, (check, name)
    skipped = report["results"]["skipped_checks"]
    assert {s["check_id"] for s in skipped} <= {"CKV_K8S_43", "CKV_K8S_35"}
    for s in skipped:
        assert len(s["check_result"]["suppress_comment"]) > 40, s  # a reason, not an id


def test_every_process_is_a_deployment_with_its_command_two_replicas_pdb_and_hpa(base) -> None:  # type: ignore[no-untyped-def]
    deployments = by_kind(base, "Deployment")
    pdbs, hpas = by_kind(base, "PodDisruptionBudget"), by_kind(base, "HorizontalPodAutoscaler")
    assert set(deployments) == {s.name for s in ALL}
    for spec in ALL:
        d = deployments[spec.name]
        c = d["spec"]["template"]["spec"]["containers"][0]
        assert c["args"] == ["python", *spec.argv[1:]], spec.name
        assert d["spec"]["replicas"] >= 2
        assert d["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        labels = d["spec"]["template"]["metadata"]["labels"]
        sel = d["spec"]["selector"]["matchLabels"]
        assert sel.items() <= labels.items()
        assert pdbs[spec.name]["spec"]["selector"]["matchLabels"] == sel
        assert pdbs[spec.name]["spec"]["minAvailable"] < d["spec"]["replicas"]  # drains proceed
        hpa = hpas[spec.name]["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": spec.name,
        }
        assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]


def test_probes_mean_live_and_ready_on_the_ports_the_processes_serve(base) -> None:  # type: ignore[no-untyped-def]
    from gateway.api.routes import health, metrics
    from yiwang.metrics import wsgi_app

    config = by_kind(base, "ConfigMap")["yiwang-config"]["data"]
    gateway_paths = {r.path for m in (health, metrics) for r in m.router.routes}  # type: ignore[attr-defined]
    assert {"/live", "/ready", "/health", "/metrics"} <= gateway_paths
    for spec in ALL:
        d = by_kind(base, "Deployment")[spec.name]
        c = d["spec"]["template"]["spec"]["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        expect = (
            int(config["YIWANG_GATEWAY_PORT"])
            if spec is GATEWAY
            else int(config["YIWANG_METRICS_PORT"])
        )
        for probe, path in (
            ("livenessProbe", "/live"),
            ("readinessProbe", "/ready"),
            ("startupProbe", "/live"),
        ):
            get = c[probe]["httpGet"]
            assert get["path"] == path, (spec.name, probe)
            assert ports[get["port"]] == expect, (spec.name, probe)
        # liveness tolerates a slow moment; readiness reacts faster than liveness
        assert c["livenessProbe"]["periodSeconds"] * c["livenessProbe"]["failureThreshold"] >= 20
        assert c["readinessProbe"]["periodSeconds"] <= c["livenessProbe"]["periodSeconds"]
        ann = d["spec"]["template"]["metadata"]["annotations"]
        assert int(ann["prometheus.io/port"]) == expect and ann["prometheus.io/path"] == "/metrics"
    for path in ("/live", "/ready", "/metrics"):  # what a service's probe port answers
        statuses: list[str] = []
        wsgi_app({"PATH_INFO": path}, lambda s, h, out=statuses: out.append(s))
        assert not statuses[0].startswith("404"), path


def test_memory_requests_cover_the_measured_rss_and_limits_leave_headroom(base) -> None:  # type: ignore[no-untyped-def]
    for name, rss_mb in MEASURED_RSS_MB.items():
        c = by_kind(base, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]
        req, lim = c["resources"]["requests"], c["resources"]["limits"]
        rss_mib = rss_mb * 1e6 / 2**20
        assert mib(req["memory"]) >= rss_mib * 1.15, (name, req)
        assert mib(lim["memory"]) >= mib(req["memory"]) * 1.5, (name, lim)
        assert 0 < cpu(req["cpu"]) <= cpu(lim["cpu"]), name


def test_pods_run_as_the_images_non_root_user_with_a_read_only_root(base, demo) -> None:  # type: ignore[no-untyped-def]
    from tests.deploy.test_image import _stages

    uid = int([i["value"] for i in _stages()[-1] if i["instruction"] == "USER"][-1].split(":")[0])
    specs = pod_specs([*base, *demo])
    assert len(specs) == len(ALL) + 3  # + migrate, bootstrap-admin, demo-load
    for name, spec in specs.items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] == uid, name
        assert spec["automountServiceAccountToken"] is False, name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"] for m in c["volumeMounts"]}
            # what the processes write: temp files and YIWANG_VAR_DIR (logs, spans, media)
            assert {"/tmp", "/var/lib/yiwang"} <= mounts, name


def test_settings_are_real_and_secrets_come_only_from_the_named_secret(base, demo) -> None:  # type: ignore[no-untyped-def]
    fields = {f"YIWANG_{n.upper()}" for n in Settings.model_fields}
    config = by_kind(base, "ConfigMap")["yiwang-config"]["data"]
    assert set(config) <= fields, set(config) - fields
    with open(os.path.join(K8S, "secrets.env.example"), encoding="utf-8") as fh:
        secret_keys = {line.split("=", 1)[0] for line in fh if "=" in line and line[0] != "#"}
    for name, spec in pod_specs([*base, *demo]).items():
        for c in spec["containers"]:
            for env in c.get("env", []):
                assert env["name"] in fields | NON_SETTINGS_ENV, (name, env["name"])
                assert "value" not in env, (name, env)  # secrets are never inline
                ref = env["valueFrom"]["secretKeyRef"]
                assert ref["name"] == "yiwang-secrets" and ref["key"] in secret_keys
            for arg in c["args"]:
                assert "password" not in arg.lower() or arg.startswith("--"), arg
            names = {e["name"] for e in c.get("env", [])}
            assert {"YIWANG_DATABASE_URL", "YIWANG_AMQP_URI", "YIWANG_REDIS_URL"} <= names, name


def test_every_pod_reads_the_keyring_from_its_secret_and_production_is_the_default(
    base, demo
) -> None:  # type: ignore[no-untyped-def]
    config = by_kind(base, "ConfigMap")["yiwang-config"]["data"]
    assert config["YIWANG_ENV"] == "production"
    assert (
        config["YIWANG_OTP_LOG_CODES"] == "false" and config["YIWANG_OTP_AUTO_REGISTER"] == "false"
    )
    assert by_kind(demo, "ConfigMap")["yiwang-config"]["data"]["YIWANG_ENV"] == "demo"
    keys_dir, keys_name = os.path.split(config["YIWANG_KEYS_FILE"])
    for name, spec in pod_specs([*base, *demo]).items():
        volumes = {v["name"]: v for v in spec["volumes"]}
        (mount,) = [m for m in spec["containers"][0]["volumeMounts"] if m["mountPath"] == keys_dir]
        assert mount["readOnly"] is True, name
        secret = volumes[mount["name"]]["secret"]
        assert secret["secretName"] == "yiwang-keys", name
        assert {"key": "keys.json", "path": keys_name} in secret["items"], name
        assert secret["defaultMode"] & 0o007 == 0, name  # not readable by others


def test_jobs_migrate_and_create_the_first_administrator(base) -> None:  # type: ignore[no-untyped-def]
    jobs = by_kind(base, "Job")
    migrate = jobs["migrate"]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["args"] == ["python", "-m", "yiwang.migrate", "upgrade"]
    admin = jobs["bootstrap-admin"]["spec"]["template"]["spec"]["containers"][0]
    assert admin["args"][:3] == ["python", "-m", "gateway.security.bootstrap_admin"]
    assert any(e["name"] == "YIWANG_ADMIN_PASSWORD" for e in admin["env"])
    for job in jobs.values():
        assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")
        assert job["spec"]["ttlSecondsAfterFinished"] > 0  # the next release can re-create it


def test_network_policy_denies_all_but_the_broker_database_redis_and_ingress(base) -> None:  # type: ignore[no-untyped-def]
    pols = by_kind(base, "NetworkPolicy")
    deny = pols["yiwang-default-deny"]["spec"]
    everyone = {"app.kubernetes.io/part-of": "yiwang"}
    assert deny["podSelector"]["matchLabels"] == everyone
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for d in by_kind(base, "Deployment").values():
        assert everyone.items() <= d["spec"]["template"]["metadata"]["labels"].items()
    egress_ports = {
        p["port"]
        for pol in pols.values()
        for rule in pol["spec"].get("egress", [])
        for p in rule["ports"]
    }
    assert egress_ports == {53, 5432, 5672, 6379}
    ingress = {
        (pol["metadata"]["name"], p["port"])
        for pol in pols.values()
        for rule in pol["spec"].get("ingress", [])
        for p in rule["ports"]
    }
    assert ingress == {
        ("yiwang-gateway-ingress", 8000),
        ("yiwang-metrics-scrape", 8000),
        ("yiwang-metrics-scrape", 9100),
    }
    gw = pols["yiwang-gateway-ingress"]["spec"]["podSelector"]["matchLabels"]
    assert gw == {"app.kubernetes.io/name": "gateway"}


def test_ingress_routes_the_apps_and_api_to_the_gateway_but_not_probes_or_metrics(base) -> None:  # type: ignore[no-untyped-def]
    from gateway.api.routes.web import APPS, ASSET_DIRS

    ing = by_kind(base, "Ingress")["yiwang"]["spec"]
    svc = by_kind(base, "Service")["gateway"]["spec"]
    port_names = {p["name"] for p in svc["ports"]}
    paths = {}
    for rule in ing["rules"]:
        for p in rule["http"]["paths"]:
            assert p["backend"]["service"]["name"] == "gateway"
            assert p["backend"]["service"]["port"]["name"] in port_names
            paths[p["path"]] = p["pathType"]
    for prefix in ("/api", "/open311", *(f"/{a}" for a in (*APPS, *ASSET_DIRS))):
        assert paths.get(prefix) == "Prefix", prefix
    assert paths["/"] == "Exact"
    for internal in ("/metrics", "/live", "/ready", "/health"):
        assert not any(
            internal.startswith(p) and (t == "Prefix" and p != "/" or p == internal)
            for p, t in paths.items()
        ), internal
