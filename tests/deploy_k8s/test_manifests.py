"""deploy/k8s renders with kustomize, every object is valid, and the app's settings all reach the
pods (and the compose stack).

Core objects are validated strictly against Kubernetes KUBERNETES_VERSION's schemas shipped by
kubernetes-validate. CloudNativePG's Cluster and ScheduledBackup and the Barman Cloud plugin's
ObjectStore are custom resources it has no schema for: CRD_SCHEMAS below checks the fields this
deployment relies on (no more: the operators validate the rest when applied).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy_k8s.env_names import ROOT, app_env_names

K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("small-team", "large-team")
KUBERNETES_VERSION = "1.32"
KUBECTL = shutil.which("kubectl") or (
    "/usr/bin/kubectl" if Path("/usr/bin/kubectl").exists() else None
)
APP_COMPONENTS = ("web", "worker", "beat", "migrate")

# Read by the app, but not set in the Kubernetes manifests, and why.
K8S_EXEMPT = {
    "EMBEDDED_PG_SHARED_BUFFERS_MB": "the embedded PostgreSQL; the cluster runs CloudNativePG",
    "LOCAL_LLM_PORT": "the embedded llama.cpp server; the cluster runs vLLM",
    "LOCAL_MODEL_PATH": "the embedded llama.cpp server; the cluster runs vLLM",
    "PYTHONPATH": "set by the image (deploy/Dockerfile); the document runner only extends it",
}
# Read by the app, but not in deploy/.env.example nor docker-compose.yml, and why.
COMPOSE_EXEMPT = {
    "EMBEDDED_PG_SHARED_BUFFERS_MB": "tunes the embedded PostgreSQL; compose runs its own",
    "PYTHONPATH": "set by the image (deploy/Dockerfile); the document runner only extends it",
}
# Secrets the pods reference that the manifests do not create (secret.example.yaml templates
# them; CloudNativePG generates recall-db-app).
EXTERNAL_SECRETS = {"recall-secrets", "recall-backup-s3", "recall-db-app"}
CNPG_APP_SECRET_KEYS = {"uri", "username", "password", "host", "port", "dbname"}

_ref = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
_secret_key_ref = {"type": "object", "required": ["name", "key"]}
CRD_SCHEMAS = {
    ("postgresql.cnpg.io/v1", "Cluster"): {
        "type": "object",
        "required": ["metadata", "spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["instances", "imageName", "storage", "bootstrap"],
                "properties": {
                    "instances": {"type": "integer", "minimum": 1},
                    "imageName": {"type": "string", "pattern": "standard"},
                    "storage": {"type": "object", "required": ["size"]},
                    "walStorage": {"type": "object", "required": ["size"]},
                    "bootstrap": {
                        "type": "object",
                        "required": ["initdb"],
                        "properties": {
                            "initdb": {
                                "type": "object",
                                "required": ["database", "owner", "postInitApplicationSQL"],
                                "properties": {
                                    "postInitApplicationSQL": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "contains": {"pattern": "CREATE EXTENSION .*vector"},
                                    }
                                },
                            }
                        },
                    },
                    "postgresql": {
                        "type": "object",
                        "properties": {
                            "parameters": {
                                "type": "object",
                                "additionalProperties": {"type": "string"},
                            }
                        },
                    },
                    "plugins": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"isWALArchiver": {"type": "boolean"}},
                        },
                    },
                },
            }
        },
    },
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["schedule", "cluster", "method"],
                "properties": {
                    # CloudNativePG's cron has a seconds field: six fields.
                    "schedule": {"type": "string", "pattern": r"^\S+( \S+){5}$"},
                    "cluster": _ref,
                    "method": {"enum": ["plugin", "barmanObjectStore", "volumeSnapshot"]},
                },
            }
        },
    },
    ("barmancloud.cnpg.io/v1", "ObjectStore"): {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "spec": {
                "type": "object",
                "required": ["configuration"],
                "properties": {
                    "retentionPolicy": {"type": "string", "pattern": r"^[0-9]+[dwm]$"},
                    "configuration": {
                        "type": "object",
                        "required": ["destinationPath"],
                        "properties": {
                            "destinationPath": {"type": "string"},
                            "s3Credentials": {
                                "type": "object",
                                "properties": {
                                    "accessKeyId": _secret_key_ref,
                                    "secretAccessKey": _secret_key_ref,
                                },
                            },
                        },
                    },
                },
            }
        },
    },
}

pytestmark = pytest.mark.skipif(
    KUBECTL is None, reason="kubectl is not installed: the Kubernetes manifests are not rendered"
)


@cache
def render(overlay: str) -> tuple[dict, ...]:
    result = subprocess.run(
        [KUBECTL, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def find(docs, kind: str, name: str) -> dict:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"{kind}/{name}: {len(matches)} found"
    return matches[0]


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def app_workloads(docs) -> list[dict]:
    return [
        d
        for d in docs
        if d["kind"] in ("Deployment", "Job")
        and d["metadata"].get("labels", {}).get("app.kubernetes.io/component") in APP_COMPONENTS
    ]


@cache
def example_secrets() -> dict[str, set[str]]:
    docs = yaml.safe_load_all((K8S / "base" / "secret.example.yaml").read_text())
    return {d["metadata"]["name"]: set(d["stringData"]) for d in docs if d}


def env_set_in(container: dict, docs) -> set[str]:
    names = {e["name"] for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            names |= set(find(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            names |= example_secrets()[source["secretRef"]["name"]]
    return names


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid(overlay):
    docs = render(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Job", "StatefulSet", "Service", "HorizontalPodAutoscaler"} <= kinds
    assert {"PodDisruptionBudget", "ConfigMap", "Cluster", "ScheduledBackup"} <= kinds
    for doc in docs:
        key = (doc["apiVersion"], doc["kind"])
        where = f"{overlay}: {doc['kind']}/{doc['metadata']['name']}"
        if key in CRD_SCHEMAS:
            try:
                jsonschema.validate(doc, CRD_SCHEMAS[key])
            except jsonschema.ValidationError as error:
                pytest.fail(f"{where}: {error.message}")
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where}: {error.message} at {list(error.path)}")


def test_the_secret_template_is_valid_and_holds_placeholders_only():
    for doc in yaml.safe_load_all((K8S / "base" / "secret.example.yaml").read_text()):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        for value in doc["stringData"].values():
            assert value == "" or value.startswith("REPLACE"), value
    assert (
        "secret.example.yaml"
        not in (K8S / "base" / "kustomization.yaml")
        .read_text()
        .split("resources:")[1]
        .split("configMapGenerator")[0]
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_setting_the_app_reads_reaches_every_app_container(overlay):
    docs = render(overlay)
    wanted = set(app_env_names()) - set(K8S_EXEMPT)
    workloads = app_workloads(docs)
    assert {w["metadata"]["labels"]["app.kubernetes.io/component"] for w in workloads} == set(
        APP_COMPONENTS
    )
    for workload in workloads:
        spec = pod_spec(workload)
        for container in spec.get("initContainers", []) + spec["containers"]:
            missing = sorted(wanted - env_set_in(container, docs))
            assert missing == [], f"{workload['metadata']['name']}/{container['name']}: {missing}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_reference_resolves(overlay):
    docs = render(overlay)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    for doc in docs:
        if "template" not in doc.get("spec", {}):
            continue
        spec = pod_spec(doc)
        for container in spec.get("initContainers", []) + spec["containers"]:
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    assert ("ConfigMap", source["configMapRef"]["name"]) in names
                if "secretRef" in source:
                    assert source["secretRef"]["name"] in example_secrets()
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref is None:
                    continue
                assert ref["name"] in EXTERNAL_SECRETS, ref
                keys = example_secrets().get(ref["name"], CNPG_APP_SECRET_KEYS)
                assert ref["key"] in keys, ref
        for volume in spec.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in names
    for hpa in (d for d in docs if d["kind"] == "HorizontalPodAutoscaler"):
        assert ("Deployment", hpa["spec"]["scaleTargetRef"]["name"]) in names
    db_url = find(docs, "Cluster", "recall-db")["metadata"]["name"] + "-app"
    assert db_url == "recall-db-app"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_shape_the_issue_asks_for(overlay):
    docs = render(overlay)
    beat = find(docs, "Deployment", "recall-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler" and "beat" in str(d)]
    hpas = [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"]
    assert {d["spec"]["scaleTargetRef"]["name"] for d in hpas} == {"recall-web", "recall-worker"}

    web = pod_spec(find(docs, "Deployment", "recall-web"))["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz?live=1"
    assert "requests" in web["resources"]
    config = find(docs, "ConfigMap", web["envFrom"][0]["configMapRef"]["name"])["data"]
    assert int(config["WEB_CONCURRENCY"]) == int(web["resources"]["requests"]["cpu"])
    migrate = find(docs, "Job", "recall-migrate")
    assert pod_spec(migrate)["containers"][0]["command"][-1] == "bootstrap"
    for name in ("recall-web", "recall-worker", "recall-beat"):
        init = pod_spec(find(docs, "Deployment", name))["initContainers"][0]
        assert "migrate --check" in init["command"][-1]

    vllm = find(docs, "Deployment", "recall-vllm")
    container = pod_spec(vllm)["containers"][0]
    args = dict(a.removeprefix("--").split("=", 1) for a in container["args"] if "=" in a)
    assert args["reasoning-parser"] == "deepseek_r1"
    gpus = int(container["resources"]["limits"]["nvidia.com/gpu"])
    assert int(args["tensor-parallel-size"]) == gpus
    assert config["THINKING_MODEL"] == args["served-model-name"]
    if overlay == "large-team":
        assert args["model"] == "deepseek-ai/DeepSeek-R1" and gpus == 8
        assert vllm["spec"]["replicas"] == 1
    else:
        assert "Distill" in args["model"] and gpus == 1 and vllm["spec"]["replicas"] >= 2


def test_the_compose_stack_gets_every_setting_the_app_reads():
    """Compose passes deploy/.env (a copy of .env.example) to every app service, plus its own
    `environment:` entries; each variable must appear in one of them (commented is fine: the
    example documents it, and unset means the documented default)."""
    example = (ROOT / "deploy" / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.M))
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    documented |= set(compose["x-app"]["environment"])
    missing = sorted(set(app_env_names()) - documented - set(COMPOSE_EXEMPT))
    assert missing == [], f"not in deploy/.env.example or docker-compose.yml: {missing}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_settings_load_with_the_manifests_environment(overlay, tmp_path):
    """The ConfigMap's values parse: the settings load with them and placeholder secrets."""
    docs = render(overlay)
    web = pod_spec(find(docs, "Deployment", "recall-web"))["containers"][0]
    config = find(docs, "ConfigMap", web["envFrom"][0]["configMapRef"]["name"])["data"]
    env = {
        key: value
        for key, value in os.environ.items()
        if key in ("PATH", "HOME", "LANG") or key.startswith("LC_")
    }
    env.update(config)
    env.update(
        SECRET_KEY="k8s-test-" + "x" * 50,
        CONNECTOR_ENCRYPTION_KEYS="3XgNWqFDbP5ZSrV0nZ6jMjdkm9kcHgr3sXhmE0hz9yw=",
        DATABASE_URL="postgresql://assistant:secret@recall-db-rw.recall:5432/assistant",
        ASSISTANT_DATA_DIR=str(tmp_path),
        UPLOADS_ROOT=str(tmp_path / "uploads"),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
