"""Render a kustomization without kustomize (PyPI has none): the subset deploy/k8s uses.

Supported: ``resources`` (files, or directories holding a kustomization), ``namespace``,
``labels`` (``pairs`` without selectors), ``images`` (``newName``/``newTag``/``digest``),
``replicas``, and ``patches`` from files whose strategic merge is a plain merge of mappings
(no lists in the patch). Any other field raises, so a kustomization that starts using one fails the
test instead of being rendered wrongly. tests/deploy/test_k8s.py compares the result with
``kubectl kustomize`` wherever kubectl is installed.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import yaml

SUPPORTED = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "labels",
    "images",
    "replicas",
    "patches",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "IngressClass",
}


def _pod_template(doc: dict[str, Any]) -> dict[str, Any] | None:
    if doc["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return doc["spec"]["template"]
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return None


def _set_image(image: str, rule: dict[str, Any]) -> str:
    name = image.split("@")[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]
    if name != rule["name"]:
        return image
    new = rule.get("newName", name)
    if "digest" in rule:
        return f"{new}@{rule['digest']}"
    if "newTag" in rule:
        return f"{new}:{rule['newTag']}"
    return new + image[len(name) :]


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, list):
            raise NotImplementedError("a patch with a list (strategic merge keys) is not rendered")
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def _patch(docs: list[dict[str, Any]], path: str, rule: dict[str, Any]) -> None:
    if set(rule) != {"path"}:
        raise NotImplementedError(f"patch fields not rendered here: {set(rule) - {'path'}}")
    with open(os.path.join(path, rule["path"]), encoding="utf-8") as fh:
        patch = yaml.safe_load(fh)
    meta = patch["metadata"]
    hits = [d for d in docs if d["kind"] == patch["kind"] and d["metadata"]["name"] == meta["name"]]
    if len(hits) != 1:
        raise ValueError(f"patch {rule['path']} matches {len(hits)} objects")
    body = {k: v for k, v in patch.items() if k not in ("apiVersion", "kind", "metadata")}
    _merge(hits[0], body)
    _merge(hits[0]["metadata"], {k: v for k, v in meta.items() if k not in ("name", "namespace")})


def render(path: str) -> list[dict[str, Any]]:
    """The objects of the kustomization in directory ``path``."""
    with open(os.path.join(path, "kustomization.yaml"), encoding="utf-8") as fh:
        k = yaml.safe_load(fh)
    unknown = set(k) - SUPPORTED
    if unknown:
        raise NotImplementedError(f"{path}: kustomization fields not rendered here: {unknown}")
    docs: list[dict[str, Any]] = []
    for res in k.get("resources", []):
        full = os.path.normpath(os.path.join(path, res))
        if os.path.isdir(full):
            docs.extend(render(full))
        else:
            with open(full, encoding="utf-8") as fh:
                docs.extend(d for d in yaml.safe_load_all(fh) if d)
    docs = copy.deepcopy(docs)
    for rule in k.get("patches", []):  # kustomize patches before it sets the namespace
        _patch(docs, path, rule)
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if "namespace" in k and doc["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = k["namespace"]
        for rule in k.get("labels", []):
            if rule.get("includeSelectors") or rule.get("includeTemplates"):
                raise NotImplementedError("labels with selectors/templates")
            meta.setdefault("labels", {}).update(rule["pairs"])
        template = _pod_template(doc)
        if template is not None:
            for c in [*template["spec"].get("initContainers", []), *template["spec"]["containers"]]:
                for rule in k.get("images", []):
                    c["image"] = _set_image(c["image"], rule)
        for rule in k.get("replicas", []):
            if doc["kind"] in ("Deployment", "StatefulSet") and meta["name"] == rule["name"]:
                doc["spec"]["replicas"] = rule["count"]
    return docs
