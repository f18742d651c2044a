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

from cfnlint.decode import decode_str
from samtranslator.translator.transform import transform

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
    values.update(
        {
            "AWS::AccountId": "123456789012",
            "AWS::Region": "eu-west-1",
            "AWS::Partition": "aws",
            "AWS::StackName": "ocr",
            "AWS::NoValue": NO_VALUE,
        }
    )
    return values


def _condition(expr: Any, conditions: dict[str, Any], params: dict[str, Any]) -> Any:
    if isinstance(expr, dict) and len(expr) == 1:
        ((fn, arg),) = expr.items()
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


BUS_ARN = {
    "Fn::Sub": "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${CompletionEventBusName}"
}
MODES = [{"Mode": "direct"}, {"Mode": "queued"}, {"Mode": "queued", "InputPrefix": "in/", "InputSuffix": ".pdf"}]


@pytest.mark.parametrize("given", MODES, ids=lambda g: "-".join(g.values()))
def test_each_mode_transforms_and_refers_only_to_resources_it_creates(given, monkeypatch):
    # Given the SAM template transformed offline
    template = translated(given, monkeypatch)
    # When the mode's conditions are decided
    stack = resolve(template, given)
    # Then every Ref/GetAtt/Sub names a parameter, pseudo parameter or kept resource
    known = (
        set(stack["Resources"])
        | set(template.get("Parameters", {}))
        | {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::StackName", "AWS::URLSuffix", "AWS::StackId"}
    )
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
        {"Name": "prefix", "Value": {"Ref": "InputPrefix"}},
        {"Name": "suffix", "Value": {"Ref": "InputSuffix"}},
    ]
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
    texts = json.dumps(
        resolve(translated({"Mode": "direct"}, monkeypatch), {"Mode": "direct"})["Resources"]
    ) + json.dumps(resources)
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


ALLOWED_RESOURCES = {"InputBucket", "ResultsBucket", "DeadLetterQueue", "BufferQueue", "FunctionLogGroup"}
PSEUDO_AND_NAMING = {"AWS::Partition", "AWS::AccountId", "AWS::Region", "BucketNamePrefix", "ResultsPrefix"}
# A wildcard may only stand for the objects under a bucket (and under the results prefix).
OBJECTS_UNDER_A_BUCKET = re.compile(r"(-input-[^\"]*\}/\*|\}/\$\{ResultsPrefix\}(\.claims/)?\*)")


def wildcard_grants(statements: list[dict[str, Any]]) -> list[str]:
    """What in these statements grants more than the stack's own resources, one line per finding."""
    found = []
    for statement in statements:
        if statement.get("Principal"):  # trust policy
            continue
        if statement.get("Sid") == "Tracing":
            # X-Ray's write actions take no resource but "*"; nothing else may ride on it
            if sorted(_as_list(statement["Action"])) != ["xray:PutTelemetryRecords", "xray:PutTraceSegments"]:
                found.append(f"more than X-Ray's writes on the tracing grant: {statement}")
            if statement["Resource"] != "*":
                found.append(f"the tracing grant names a resource: {statement}")
            continue
        if statement.get("Sid") == "PublishCompletionEvents":
            # The one grant outside the stack's own resources: the bus it is told to publish on
            if statement["Action"] != "events:PutEvents" or statement["Resource"] != BUS_ARN:
                found.append(f"completion events granted beyond PutEvents on their bus: {statement}")
            continue
        found.extend(f"wildcard action {a!r} in {statement}" for a in _as_list(statement["Action"]) if "*" in a)
        for resource in _as_list(statement["Resource"]):
            if isinstance(resource, str):
                found.append(f"literal resource {resource!r} in {statement}")
                continue
            named = references(resource) - PSEUDO_AND_NAMING
            text = json.dumps(resource)
            if not (named <= ALLOWED_RESOURCES and (named or "-input-" in text)):
                found.append(f"resource {resource} is not one of the stack's own in {statement}")
            elif "*" in text and not (
                OBJECTS_UNDER_A_BUCKET.search(text) or resource == {"Fn::GetAtt": ["FunctionLogGroup", "Arn"]}
            ):
                found.append(f"wildcard resource {resource} in {statement}")
    return found


@pytest.mark.parametrize("given", MODES[:2], ids=lambda g: g["Mode"])
def test_iam_grants_no_wildcard_actions_or_resources(given, monkeypatch):
    # Given every IAM statement the stack would create
    stack = resolve(translated(given, monkeypatch), given)
    statements = iam_statements(stack["Resources"])
    assert statements
    # Then no action is a wildcard, and each resource is one of the stack's buckets, queues
    # or its log group, with a wildcard only for the objects under a bucket
    assert wildcard_grants(statements) == []


def _widened(statements: list[dict[str, Any]], sid: str, **changes: Any) -> list[dict[str, Any]]:
    widened = copy.deepcopy(statements)
    (statement,) = [s for s in widened if s.get("Sid") == sid]
    statement.update(changes)
    return widened


@pytest.mark.parametrize(
    ("sid", "changes", "finding"),
    [
        ("ReadWriteResults", {"Action": ["s3:GetObject", "s3:*"]}, "wildcard action 's3:*'"),
        ("ReadWriteResults", {"Resource": "*"}, "literal resource '*'"),
        ("ReadWriteResults", {"Resource": {"Fn::Sub": "${ResultsBucket.Arn}*"}}, "wildcard resource"),
        ("ReadWriteResults", {"Resource": {"Fn::Sub": "arn:aws:s3:::someone-elses/*"}}, "not one of the stack's own"),
        ("Tracing", {"Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "s3:GetObject"]}, "X-Ray"),
        ("PublishCompletionEvents", {"Resource": "*"}, "completion events granted beyond"),
    ],
    ids=["action", "literal-star", "bucket-prefix-star", "foreign-bucket", "tracing-rider", "any-bus"],
)
def test_the_wildcard_check_fails_on_a_widened_grant(sid, changes, finding, monkeypatch):
    # Given the stack's real statements, with one grant widened
    given = {"Mode": "direct"}
    statements = iam_statements(resolve(translated(given, monkeypatch), given)["Resources"])
    # When the wildcard check reads them
    found = wildcard_grants(_widened(statements, sid, **changes))
    # Then it reports that grant, and only it
    assert len(found) == 1 and finding in found[0], found


def test_iam_reads_input_and_writes_results_only(monkeypatch):
    stack = resolve(translated({"Mode": "direct"}, monkeypatch), {"Mode": "direct"})
    by_sid = {s.get("Sid"): s for s in iam_statements(stack["Resources"])}
    # Then nothing may write to the input bucket
    input_actions = {
        a for s in by_sid.values() if "-input-" in json.dumps(s.get("Resource")) for a in _as_list(s["Action"])
    }
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
        assert (
            all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
        )
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"][
            "SSEAlgorithm"
        ]
    for name in ("DeadLetterQueue", "BufferQueue"):
        assert resources[name]["Properties"]["SqsManagedSseEnabled"] is True
    assert resources["DeadLetterQueue"]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    alarm = resources["DeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["DeadLetterQueue", "QueueName"]}
    outputs = stack["Outputs"]
    assert {
        "InputBucketName",
        "ResultsBucketName",
        "FunctionName",
        "FunctionArn",
        "DeadLetterQueueUrl",
        "DeadLetterQueueArn",
    } <= set(outputs)


def test_concurrency_memory_and_timeout_are_parameters(monkeypatch):
    template = load_template()
    props = template["Resources"][FUNCTION]["Properties"]
    assert props["ReservedConcurrentExecutions"] == {
        "Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert props["MemorySize"] == {"Ref": "MemorySize"}
    assert props["Timeout"] == {"Ref": "FunctionTimeout"}
    assert props["PackageType"] == "Image"
    assert template["Resources"][FUNCTION]["Metadata"]["Dockerfile"] == "container/Dockerfile"


def test_model_bundle_parameter_offers_every_bundle_the_image_carries_and_defaults_to_the_function_default() -> None:
    from bucket_ocr.models import BUNDLES, DEFAULT_BUNDLE

    parameter = load_template()["Parameters"]["ModelBundle"]
    assert sorted(parameter["AllowedValues"]) == sorted(BUNDLES)
    assert parameter["Default"] == DEFAULT_BUNDLE


# --- Issue #12: a stack that creates on a fresh account, and tells someone when it fails ---


def rules_refusing(template: dict[str, Any], given: dict[str, str]) -> list[str]:
    """The Rules whose condition holds and one of whose assertions fails, as CloudFormation
    decides them before it creates anything (Rules accept the condition functions only)."""
    params = _parameter_values(template, given)
    refused = []
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not _condition(rule["RuleCondition"], {}, params):
            continue
        if not all(_condition(a["Assert"], {}, params) for a in rule["Assertions"]):
            refused.append(name)
    return refused


def test_without_a_reservation_by_default_and_with_one_when_asked(monkeypatch):
    # Lambda refuses any reservation on an account whose unreserved pool would fall
    # below 100, which new accounts' quota of 10 always does: 0 must mean "none".
    template = load_template()
    assert template["Parameters"]["ReservedConcurrency"]["Default"] == 0
    for mode in ("direct", "queued"):
        stack = resolve(translated({"Mode": mode}, monkeypatch), {"Mode": mode})
        assert "ReservedConcurrentExecutions" not in stack["Resources"][FUNCTION]["Properties"], mode
    given = {"Mode": "direct", "ReservedConcurrency": "3"}
    stack = resolve(translated(given, monkeypatch), given)
    assert stack["Resources"][FUNCTION]["Properties"]["ReservedConcurrentExecutions"] == {"Ref": "ReservedConcurrency"}


@pytest.mark.parametrize(
    "given, refused",
    [
        ({"Mode": "direct"}, False),
        ({"Mode": "queued"}, False),
        ({"Mode": "direct", "ReservedConcurrency": "1"}, False),
        ({"Mode": "queued", "ReservedConcurrency": "4", "QueueMaximumConcurrency": "4"}, False),
        # The poller's minimum of 2 against a reservation of 1: throttles burn receives
        ({"Mode": "queued", "ReservedConcurrency": "1"}, True),
        ({"Mode": "queued", "ReservedConcurrency": "1", "QueueMaximumConcurrency": "2"}, True),
        ({"Mode": "queued", "ReservedConcurrency": "2", "QueueMaximumConcurrency": "8"}, True),
    ],
    ids=lambda v: "-".join(f"{k}={x}" for k, x in v.items()) if isinstance(v, dict) else str(v),
)
def test_rules_refuse_a_poller_that_would_outrun_the_reservation(given, refused):
    template = load_template()
    assert bool(rules_refusing(template, given)) is refused


def test_queued_mode_dead_letters_after_five_receives_at_least_and_polls_within_its_cap(monkeypatch):
    template = load_template()
    receive = template["Parameters"]["MaxReceiveCount"]
    assert receive["Default"] >= 5 and receive["MinValue"] >= 5
    assert template["Parameters"]["QueueMaximumConcurrency"]["MinValue"] >= 2
    stack = resolve(translated({"Mode": "queued"}, monkeypatch), {"Mode": "queued"})
    scaling = stack["Resources"]["BufferEventSource"]["Properties"]["ScalingConfig"]
    assert scaling["MaximumConcurrency"] == {"Ref": "QueueMaximumConcurrency"}


def test_the_dlq_outlives_the_buffer_and_the_stack(monkeypatch):
    stack = resolve(translated({"Mode": "queued"}, monkeypatch), {"Mode": "queued"})
    dlq, buffer = stack["Resources"]["DeadLetterQueue"], stack["Resources"]["BufferQueue"]
    # A standard DLQ keeps the original enqueue time: the buffer's retention must leave
    # the letters days to be looked at, not hours
    dlq_days = dlq["Properties"]["MessageRetentionPeriod"] / 86400
    buffer_days = buffer["Properties"]["MessageRetentionPeriod"] / 86400
    assert dlq_days - buffer_days >= 7, (dlq_days, buffer_days)
    assert dlq["DeletionPolicy"] == dlq["UpdateReplacePolicy"] == "Retain"


ALARMS = {
    "direct": {
        "DeadLetterAlarm": "ApproximateNumberOfMessagesVisible",
        "FunctionErrorsAlarm": "Errors",
        "FunctionThrottlesAlarm": "Throttles",
        "AsyncEventsDroppedAlarm": "AsyncEventsDropped",
    },
    "queued": {
        "DeadLetterAlarm": "ApproximateNumberOfMessagesVisible",
        "FunctionErrorsAlarm": "Errors",
        "FunctionThrottlesAlarm": "Throttles",
        "BacklogAlarm": "ApproximateAgeOfOldestMessage",
    },
}


@pytest.mark.parametrize("mode", ["direct", "queued"])
def test_each_mode_alarms_on_its_failures_and_tells_the_optional_topic(mode, monkeypatch):
    topic = "arn:aws:sns:eu-west-1:123456789012:ocr-alarms"
    for given, actions in (
        ({"Mode": mode}, None),
        ({"Mode": mode, "AlarmTopicArn": topic}, [{"Ref": "AlarmTopicArn"}]),
    ):
        stack = resolve(translated(given, monkeypatch), given)
        alarms = {
            name: r["Properties"] for name, r in stack["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"
        }
        # Then the mode has exactly its alarms, each on its metric
        assert {name: a["MetricName"] for name, a in alarms.items()} == ALARMS[mode]
        for name, alarm in alarms.items():
            # and every one notifies the topic when one is given, and nothing otherwise
            assert alarm.get("AlarmActions") == actions, name
            dimension = alarm["Dimensions"][0]["Value"]
            watched = {"FunctionName": FUNCTION}.get(alarm["Dimensions"][0]["Name"])
            assert dimension == {"Ref": watched} if watched else "Fn::GetAtt" in dimension, name
    assert re.match(load_template()["Parameters"]["AlarmTopicArn"]["AllowedPattern"], topic)


def test_the_function_is_traced_and_may_write_traces(monkeypatch):
    stack = resolve(translated({"Mode": "direct"}, monkeypatch), {"Mode": "direct"})
    assert stack["Resources"][FUNCTION]["Properties"]["TracingConfig"] == {"Mode": "Active"}
    by_sid = {s.get("Sid"): s for s in iam_statements(stack["Resources"])}
    assert "xray:PutTraceSegments" in by_sid["Tracing"]["Action"]


def test_buckets_abort_incomplete_uploads_and_results_expire_only_when_asked(monkeypatch):
    for given, expiry in (({"Mode": "direct"}, None), ({"Mode": "direct", "ResultsExpirationDays": "30"}, "30")):
        resources = resolve(translated(given, monkeypatch), given)["Resources"]
        for bucket in ("InputBucket", "ResultsBucket"):
            rules = resources[bucket]["Properties"]["LifecycleConfiguration"]["Rules"]
            aborts = [r for r in rules if "AbortIncompleteMultipartUpload" in r]
            assert len(aborts) == 1 and aborts[0]["Status"] == "Enabled", bucket
            assert aborts[0]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] >= 1
        input_rules = resources["InputBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
        # Documents are the user's: nothing in the template expires them
        assert not any("ExpirationInDays" in r for r in input_rules)
        expiring = [
            r
            for r in resources["ResultsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
            if "ExpirationInDays" in r
        ]
        if expiry is None:
            assert expiring == []
        else:
            (rule,) = expiring
            assert rule["ExpirationInDays"] == {"Ref": "ResultsExpirationDays"} and rule["Prefix"] == {
                "Ref": "ResultsPrefix"
            }


SAM_ENV = ROOT / "tests" / "events" / "sam-env.json"


def test_sam_local_env_vars_give_every_computed_setting_a_real_value(monkeypatch):
    # Given the function's environment as the template declares it
    variables = load_template()["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    overrides = json.loads(SAM_ENV.read_text())[FUNCTION]
    # Then the env-vars file sets only variables the template declares (SAM ignores others)
    assert set(overrides) <= set(variables), set(overrides) - set(variables)
    # and every value computed from a resource or the account (sam local resolves a
    # parameter's Ref to its default, but passes a resource's logical id as its name) has
    # a literal in the file
    parameters = set(load_template()["Parameters"])
    computed = {name for name, value in variables.items() if isinstance(value, dict) and references(value) - parameters}
    assert {"OCR_RESULTS_BUCKET", "OCR_DEAD_LETTER_QUEUE_URL", "OCR_SOURCE_BUCKETS"} <= computed
    assert computed <= set(overrides), computed - set(overrides)
    assert all(isinstance(v, str) and v for v in overrides.values())
    # and the function's settings accept what `sam local invoke` would run it with
    from bucket_ocr.settings import Settings

    defaults = {
        name: load_template()["Parameters"][value["Ref"]].get("Default")
        for name, value in variables.items()
        if isinstance(value, dict) and set(value) == {"Ref"} and value["Ref"] in parameters
    }
    literal = {name: str(value) for name, value in {**variables, **defaults}.items() if not isinstance(value, dict)}
    settings = Settings.from_env({**literal, **overrides})
    assert settings.s3_endpoint_url and settings.sqs_endpoint_url
    # and the input bucket of the event the README invokes with is one the loop guard knows
    event = json.loads((ROOT / "tests" / "events" / "s3-put.json").read_text())
    assert event["Records"][0]["s3"]["bucket"]["name"] in settings.source_buckets
    assert "--env-vars tests/events/sam-env.json" in (ROOT / "docs" / "deployment.md").read_text()


def test_a_second_delivery_waits_for_a_claim_less_than_the_shortest_function_timeout(monkeypatch):
    stack = resolve(translated({"Mode": "direct"}, monkeypatch), {"Mode": "direct"})
    function = next(r for r in stack["Resources"].values() if r["Type"] == "AWS::Lambda::Function")
    wait = int(function["Properties"]["Environment"]["Variables"]["OCR_CLAIM_WAIT_SECONDS"])
    timeouts = load_template()["Parameters"]["FunctionTimeout"]["AllowedValues"]
    assert 0 < wait < min(int(t) for t in timeouts)


# --- Issue #11: completion events on EventBridge ---


@pytest.mark.parametrize("given", MODES[:2], ids=lambda g: g["Mode"])
def test_the_function_publishes_completion_events_on_the_configured_bus_only(given, monkeypatch):
    stack = resolve(translated(given, monkeypatch), given)
    variables = stack["Resources"][FUNCTION]["Properties"]["Environment"]["Variables"]
    # Then the function is told to publish on EventBridge, on the parameter's bus
    assert variables["OCR_COMPLETION_EVENTS"] == "eventbridge"
    assert variables["OCR_EVENT_BUS_NAME"] == {"Ref": "CompletionEventBusName"}
    assert load_template()["Parameters"]["CompletionEventBusName"]["Default"] == "default"
    # and the settings it would read accept the template's values
    from bucket_ocr.completion.settings import CompletionSettings

    settings = CompletionSettings.from_env({"OCR_COMPLETION_EVENTS": "eventbridge", "OCR_EVENT_BUS_NAME": "default"})
    assert (settings.backend, settings.event_bus_name) == ("eventbridge", "default")
    # and the only events action granted is PutEvents on that bus
    statements = iam_statements(stack["Resources"])
    events = [s for s in statements if any(a.startswith("events:") for a in _as_list(s["Action"]))]
    assert events == [
        {"Sid": "PublishCompletionEvents", "Effect": "Allow", "Action": "events:PutEvents", "Resource": BUS_ARN}
    ]


def test_the_event_markers_are_under_the_prefix_the_function_may_write():
    from bucket_ocr.completion.published import EVENTS_FOLDER, marker_key
    from bucket_ocr.events.records import ObjectRef

    # Given where a marker goes for the template's default prefix
    prefix = load_template()["Parameters"]["ResultsPrefix"]["Default"]
    key = marker_key(prefix, ObjectRef("in", "a.png", None, "abc"))
    assert key.startswith(prefix + EVENTS_FOLDER)
    # Then ReadWriteResults (GetObject for the HEAD, PutObject) covers it
    statements = iam_statements(load_template()["Resources"])
    results = next(s for s in statements if s.get("Sid") == "ReadWriteResults")
    assert {"s3:GetObject", "s3:PutObject"} <= set(results["Action"])
    assert results["Resource"] == {"Fn::Sub": "${ResultsBucket.Arn}/${ResultsPrefix}*"}


@pytest.mark.parametrize(
    "name, valid",
    [
        ("default", True),
        ("ocr-events", True),
        ("team/ocr_events.v2", True),
        ("arn:aws:events:eu-west-1:123456789012:event-bus/x", False),
        ("", False),
        ("a b", False),
        ("x" * 257, False),
    ],
)
def test_the_bus_parameter_takes_a_name_the_grant_can_be_built_from(name, valid):
    pattern = load_template()["Parameters"]["CompletionEventBusName"]["AllowedPattern"]
    assert bool(re.match(pattern, name)) is valid


@pytest.mark.parametrize("mode", ["direct", "queued"])
def test_an_example_rule_routes_failed_documents_to_a_queue_only_that_rule_may_send_to(mode, monkeypatch):
    stack = resolve(translated({"Mode": mode}, monkeypatch), {"Mode": mode})
    resources = stack["Resources"]
    # Then the rule listens on the function's bus for failed documents of this account
    rule = resources["FailedDocumentsRule"]["Properties"]
    assert rule["EventBusName"] == {"Ref": "CompletionEventBusName"} and rule["State"] == "ENABLED"
    from bucket_ocr.completion.event import DETAIL_TYPES, SOURCE

    assert rule["EventPattern"] == {
        "source": [SOURCE],
        "detail-type": [DETAIL_TYPES["failed"]],
        "account": [{"Ref": "AWS::AccountId"}],
    }
    # and sends them to the queue
    (target,) = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["FailedDocumentsQueue", "Arn"]}
    assert resources["FailedDocumentsQueue"]["Properties"]["SqsManagedSseEnabled"] is True
    # and only EventBridge, for that rule, may send to the queue
    policy = resources["FailedDocumentsQueuePolicy"]["Properties"]
    assert policy["Queues"] == [{"Ref": "FailedDocumentsQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"} and statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["FailedDocumentsQueue", "Arn"]}
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["FailedDocumentsRule", "Arn"]}}}
    assert {"FailedDocumentsQueueUrl", "FailedDocumentsQueueArn", "CompletionEventBusName"} <= set(stack["Outputs"])
