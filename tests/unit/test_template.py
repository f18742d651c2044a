"""template.yaml: lints clean, transforms offline in both modes, wires the function's
settings and grants only what the function does.

Conditions are evaluated here (the SAM transform keeps them), so each mode is checked as
CloudFormation would create it: a Ref to a resource the mode leaves out is a failure.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("samtranslator")
pytest.importorskip("cfnlint")

from cfnlint.decode import decode_str  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DOCKERFILE = ROOT / "container" / "Dockerfile"
FUNCTION = "OcrFunction"
NO_VALUE = object()


def _required_variables() -> tuple[str, ...]:
    from bucket_ocr.settings import REQUIRED_VARIABLES

    return tuple(REQUIRED_VARIABLES)


class _ManagedPolicies:
    """The translator asks IAM for managed policy ARNs by name; offline it gets none."""

    def load(self) -> dict[str, str]:
        return {}


def load_template() -> dict[str, Any]:
    template, problems = decode_str(TEMPLATE.read_text())
    assert not problems, problems
    return json.loads(json.dumps(template))


def translated(parameters: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    template = load_template()
    # What `sam build` fills in once the image is pushed.
    template["Resources"][FUNCTION]["Properties"]["ImageUri"] = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ocr:1"
    return transform(template, dict(parameters), _ManagedPolicies())


def _parameter_values(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    values = {name: spec.get("Default") for name, spec in template.get("Parameters", {}).items()}
    values.update(given)
    values.update({"AWS::AccountId": "123456789012", "AWS::Region": "eu-west-1", "AWS::Partition": "aws",
                   "AWS::StackName": "ocr", "AWS::NoValue": NO_VALUE})
    return values


def _condition(expr: Any, conditions: dict[str, Any], params: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and len(expr) == 1:
        (fn, arg), = expr.items()
        if fn == "Fn::Equals":
            a, b = (_condition(x, conditions, params) for x in arg)
            return str(a) == str(b)
        if fn == "Fn::Not":
            return not _condition(arg[0], conditions, params)
        if fn == "Fn::Or":
            return any(_condition(x, conditions, params) for x in arg)
        if fn == "Fn::And":
            return all(_condition(x, conditions, params) for x in arg)
        if fn == "Condition":
            return _condition(conditions[arg], conditions, params)
        if fn == "Ref":
            return params[arg]
    return expr


def resolve(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """The template CloudFormation would act on: conditions decided, Fn::If and
    AWS::NoValue gone, resources and outputs of false conditions dropped."""
    params = _parameter_values(template, given)
    raw = template.get("Conditions", {})
    decided = {name: bool(_condition(expr, raw, params)) for name, expr in raw.items()}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return walk(yes if decided[name] else no)
            if node == {"Ref": "AWS::NoValue"}:
                return NO_VALUE
            out = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in out.items() if v is not NO_VALUE}
        if isinstance(node, list):
            return [v for v in (walk(x) for x in node) if v is not NO_VALUE]
        return node

    result = copy.deepcopy(template)
    for section in ("Resources", "Outputs"):
        kept = {k: v for k, v in result.get(section, {}).items() if decided.get(v.get("Condition"), True)}
        result[section] = walk(kept)
    result["_conditions"] = decided
    return result


def references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for fn, arg in node.items():
            if fn == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif fn == "Fn::GetAtt":
                found.add(arg[0] if isinstance(arg, list) else arg.split(".")[0])
            elif fn == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^!}][^}]*)\}", text))
            found |= references(arg)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def iam_statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    statements = []
    for resource in resources.values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [p["PolicyDocument"] for p in props.get("Policies", [])]
            assert not props.get("ManagedPolicyArns"), "managed policies grant what this test cannot see"
        elif resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [props["PolicyDocument"]]
        else:
            continue
        for document in documents:
            stated = document["Statement"]
            statements.extend(stated if isinstance(stated, list) else [stated])
    return statements


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


MODES = [{"Mode": "direct"}, {"Mode": "queued"}, {"Mode": "queued", "InputPrefix": "in/", "InputSuffix": ".pdf"}]


def test_cfn_lint_reports_no_errors():
    # Given the template, when cfn-lint checks it (resource specs, SAM included)
    from cfnlint.api import lint_file

    matches = lint_file(TEMPLATE)
    # Then it finds nothing (warnings and informational findings fail too)
    assert not matches, "\n".join(str(m) for m in matches)


@pytest.mark.parametrize("given", MODES, ids=lambda g: "-".join(g.values()))
def test_each_mode_transforms_and_refers_only_to_resources_it_creates(given, monkeypatch):
    # Given the SAM template transformed offline
    template = translated(given, monkeypatch)
    # When the mode's conditions are decided
    stack = resolve(template, given)
    # Then every Ref/GetAtt/Sub names a parameter, pseudo parameter or kept resource
    known = set(stack["Resources"]) | set(template.get("Parameters", {})) | {
        "AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix", "AWS::StackId"}
    dangling = references(stack["Resources"]) | references(stack["Outputs"])
    assert dangling <= known, dangling - known


def test_direct_mode_invokes_the_function_from_the_input_bucket(monkeypatch):
    # Given direct mode with key filters
    given = {"Mode": "direct", "InputPrefix": "in/", "InputSuffix": ".pdf"}
    stack = resolve(translated(given, monkeypatch), given)
    resources = stack["Resources"]
    # Then the bucket notifies the function of created objects through both filters
    notification = resources["InputBucket"]["Properties"]["NotificationConfiguration"]
    (config,) = notification["LambdaConfigurations"]
    assert config["Event"] == "s3:ObjectCreated:*"
    assert config["Function"] == {"Fn::GetAtt": ["OcrFunction", "Arn"]}
    assert config["Filter"]["S3Key"]["Rules"] == [
        {"Name": "prefix", "Value": {"Ref": "InputPrefix"}}, {"Name": "suffix", "Value": {"Ref": "InputSuffix"}}]
    assert "QueueConfigurations" not in notification
    # and S3 may invoke it, from that bucket only, and the buffer queue does not exist
    permission = resources["InputInvokePermission"]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com" and permission["SourceAccount"]
    assert "BufferQueue" not in resources and "BufferEventSource" not in resources
    # and failed async invocations go to the DLQ after the configured retries
    invoke = resources["OcrFunctionEventInvokeConfig"]["Properties"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    assert "MaximumRetryAttempts" in invoke and "MaximumEventAgeInSeconds" in invoke


@pytest.mark.parametrize("timeout", ["120", "300", "600", "900"])
def test_queued_mode_buffers_in_sqs_with_partial_batch_failures(timeout, monkeypatch):
    # Given queued mode and a function timeout
    given = {"Mode": "queued", "FunctionTimeout": timeout}
    template = translated(given, monkeypatch)
    stack = resolve(template, given)
    resources = stack["Resources"]
    # Then the bucket notifies the buffer queue, not the function
    notification = resources["InputBucket"]["Properties"]["NotificationConfiguration"]
    assert "LambdaConfigurations" not in notification
    assert notification["QueueConfigurations"][0]["Queue"] == {"Fn::GetAtt": ["BufferQueue", "Arn"]}
    assert "InputInvokePermission" not in resources
    # and the queue hides a message for at least six function timeouts, redriving to the DLQ
    queue = resources["BufferQueue"]["Properties"]
    _, mapping, key, attribute = ("", *queue["VisibilityTimeout"]["Fn::FindInMap"])
    assert key == {"Ref": "FunctionTimeout"}
    assert template["Mappings"][mapping][timeout][attribute] >= 6 * int(timeout)
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
    # and only S3 from the input bucket may send to it
    (statement,) = resources["BufferQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]
    # and the function reports failed records of a batch
    mapping_props = resources["BufferEventSource"]["Properties"]
    assert mapping_props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_the_input_bucket_name_the_grants_use_is_the_bucket_created(monkeypatch):
    # Given the computed input bucket name, written out in several places to avoid a cycle
    stack = resolve(translated({"Mode": "queued"}, monkeypatch), {"Mode": "queued"})
    resources = stack["Resources"]
    name = resources["InputBucket"]["Properties"]["BucketName"]["Fn::Sub"]
    # Then the permission, the queue policy, the role and the loop guard all use the same one
    texts = json.dumps(resolve(translated({"Mode": "direct"}, monkeypatch), {"Mode": "direct"})["Resources"]) + json.dumps(resources)
    uses = re.findall(r"\$\{BucketNamePrefix\}-input-[^/\"]*", texts)
    assert len(uses) >= 5 and set(uses) == {name}


def test_every_required_setting_is_set_and_the_models_dir_is_the_images(monkeypatch):
    # Given the transformed function
    for given in MODES[:2]:
        stack = resolve(translated(given, monkeypatch), given)
        variables = stack["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
        # Then each variable the settings module requires has a non-empty value
        for name in _required_variables():
            assert variables.get(name) not in (None, ""), name
    # and OCR_MODELS_DIR is where the Dockerfile bakes the models
    env = dict(re.findall(r"\b(OCR_MODELS_DIR)=(\S+)", DOCKERFILE.read_text()))
    assert variables["OCR_MODELS_DIR"] == env["OCR_MODELS_DIR"]
    # and the loop guard names the input bucket
    assert "-input-" in variables["OCR_SOURCE_BUCKETS"]["Fn::Sub"]


@pytest.mark.parametrize("given", MODES[:2], ids=lambda g: g["Mode"])
def test_iam_grants_no_wildcard_actions_or_resources(given, monkeypatch):
    # Given every IAM statement the stack would create
    stack = resolve(translated(given, monkeypatch), given)
    statements = iam_statements(stack["Resources"])
    assert statements
    allowed_resources = {"InputBucket", "ResultsBucket", "DeadLetterQueue", "BufferQueue", "FunctionLogGroup"}
    for statement in statements:
        if statement.get("Principal"):  # trust policy
            continue
        # Then no action is a wildcard
        for action in _as_list(statement["Action"]):
            assert "*" not in action, statement
        for resource in _as_list(statement["Resource"]):
            # and each resource is one of the stack's buckets, queues or its log group
            if isinstance(resource, str):
                pytest.fail(f"literal resource {resource!r} in {statement}")
            named = references(resource) - {"AWS::Partition", "AWS::AccountId", "AWS::Region", "BucketNamePrefix", "ResultsPrefix"}
            text = json.dumps(resource)
            assert named <= allowed_resources and (named or "-input-" in text), statement
            # with a wildcard only for the objects under a bucket (and the prefix of results)
            if "*" in text:
                assert re.search(r"(-input-[^\"]*\}/\*|\}/\$\{ResultsPrefix\}(\.claims/)?\*)", text) or resource == {
                    "Fn::GetAtt": ["FunctionLogGroup", "Arn"]}, statement


def test_iam_reads_input_and_writes_results_only(monkeypatch):
    stack = resolve(translated({"Mode": "direct"}, monkeypatch), {"Mode": "direct"})
    by_sid = {s.get("Sid"): s for s in iam_statements(stack["Resources"])}
    # Then nothing may write to the input bucket
    input_actions = {a for s in by_sid.values() if "-input-" in json.dumps(s.get("Resource")) for a in _as_list(s["Action"])}
    assert input_actions <= {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"}
    # and the results bucket is read (idempotence) and written under the prefix only
    results = by_sid["ReadWriteResults"]
    assert set(results["Action"]) == {"s3:GetObject", "s3:PutObject"}
    assert results["Resource"] == {"Fn::Sub": "${ResultsBucket.Arn}/${ResultsPrefix}*"}
    # and the only deletions are of the function's own claims
    deleting = [s for s in by_sid.values() if "s3:DeleteObject" in _as_list(s["Action"])]
    assert deleting == [by_sid["ReleaseClaims"]] and _as_list(by_sid["ReleaseClaims"]["Action"]) == ["s3:DeleteObject"]
    assert by_sid["ReleaseClaims"]["Resource"] == {"Fn::Sub": "${ResultsBucket.Arn}/${ResultsPrefix}.claims/*"}
    # and listing the results bucket is not conditioned on a prefix, which a HEAD does not send
    assert "Condition" not in by_sid["ListResults"]
    # and the only SQS action in direct mode is sending to the DLQ
    sqs = {a for s in by_sid.values() for a in _as_list(s["Action"]) if a.startswith("sqs:")}
    assert sqs == {"sqs:SendMessage"}


def test_buckets_block_public_access_and_encrypt_and_the_dlq_is_encrypted_for_14_days(monkeypatch):
    stack = resolve(translated({"Mode": "queued"}, monkeypatch), {"Mode": "queued"})
    resources = stack["Resources"]
    for name in ("InputBucket", "ResultsBucket"):
        props = resources[name]["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"]
    for name in ("DeadLetterQueue", "BufferQueue"):
        assert resources[name]["Properties"]["SqsManagedSseEnabled"] is True
    assert resources["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarm = resources["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    outputs = stack["Outputs"]
    assert {"InputBucketName", "ResultsBucketName", "FunctionName", "FunctionArn", "DeadLetterQueueUrl", "DeadLetterQueueArn"} <= set(outputs)


def test_concurrency_memory_and_timeout_are_parameters(monkeypatch):
    template = load_template()
    props = template["Resources"][FUNCTION]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}
    assert props["MemorySize"] == {"Ref": "MemorySize"}
    assert props["Timeout"] == {"Ref": "FunctionTimeout"}
    assert props["PackageType"] == "Image"
    assert template["Resources"][FUNCTION]["Metadata"]["Dockerfile"] == "container/Dockerfile"


def test_the_wildcard_check_can_fail():
    # Given a statement with a wildcard action and resource, the walk sees it
    resources = {"R": {"Type": "AWS::IAM::Role", "Properties": {"Policies": [{"PolicyDocument": {
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}]}}}
    (statement,) = iam_statements(resources)
    assert "*" in statement["Action"] and statement["Resource"] == "*"


def test_model_bundle_parameter_offers_every_bundle_the_image_carries_and_defaults_to_the_function_default() -> None:
    from bucket_ocr.models import BUNDLES, DEFAULT_BUNDLE

    parameter = load_template()["Parameters"]["ModelBundle"]
    assert sorted(parameter["AllowedValues"]) == sorted(BUNDLES)
    assert parameter["Default"] == DEFAULT_BUNDLE
