"""``LocalStack``: a SAM template's resources created in whatever AWS boto3 points at (moto), its
functions run in-process, its REST API answered by ``invoke_api``.

    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        stack = LocalStack("template.yaml", name="t").up()
        try:
            stack.invoke_api("GET", "/versions")
        finally:
            stack.down()

Generic on purpose: a bucket, table, function, state machine or REST API added to the template
appears locally with no other change. Layers and IAM need nothing locally (the code is installed
in the venv; moto does not enforce IAM).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from image_import_dev.local import LocalStackError
from image_import_dev.local.apigateway import RestApi, make_request
from image_import_dev.local.event_log import EventLog
from image_import_dev.local.events import QueueConsumer, wait_until_idle
from image_import_dev.local.runtime import DEFAULT_ACCOUNT_ID, LambdaRuntime, LocalFunction
from image_import_dev.local.template import Resolver, SamHook, load_sam, translate

log = logging.getLogger(__name__)

# created elsewhere or meaningless without real AWS: no warning for these
NOTHING_TO_DO = {
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::Lambda::Permission",
    "AWS::Lambda::LayerVersion",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Stage",
    "AWS::ApiGateway::Account",
    "AWS::CloudFormation::WaitConditionHandle",  # an ordering hint for CloudFormation only
    "AWS::Logs::LogGroup",
    "AWS::SQS::QueuePolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::S3::BucketPolicy",
    "AWS::Events::Rule",  # schedules: run the function by hand locally (make sweep)
}


class LocalStack:
    """One SAM application, deployed locally under the stack name ``name``."""

    def __init__(
        self,
        template_path: str | Path,
        *,
        name: str = "local",
        region: str = "us-east-1",
        parameters: Mapping[str, Any] | None = None,
        sam_hook: SamHook | None = None,
        env_overrides: Mapping[str, str] | None = None,
        events_file: str | Path | None = None,
        large_requests: bool | None = None,
    ):
        """``large_requests``: serve events over Lambda's 6 MB request limit (with a warning) instead of
        refusing them with 413 as AWS does; None: ``$IMAGE_IMPORT_LOCAL_LARGE_REQUESTS`` (runtime.py)."""
        self.template_path = Path(template_path).resolve()
        self.name, self.region = name, region
        self.account_id = os.environ.get("MOTO_ACCOUNT_ID", DEFAULT_ACCOUNT_ID)
        self.env_overrides = dict(env_overrides or {})
        app = load_sam(self.template_path, sam_hook)
        self.sam, self.code_dirs = app.template, app.code_dirs
        self.cfn = translate(self.sam, dict(parameters or {}), region)
        self._parameters = dict(parameters or {})
        self.resolver = Resolver(
            self.cfn, stack_name=name, region=region, account_id=self.account_id, parameters=self._parameters
        )
        self._large_requests = large_requests
        self.runtime = LambdaRuntime(region, self.account_id, large_requests=large_requests)
        self.environment: dict[str, str] = {}  # the one process environment every function shares
        self.apis: dict[str, RestApi] = {}
        self.outputs: dict[str, Any] = {}
        self.consumers: list[QueueConsumer] = []  # SQS event source mappings, polled in threads
        self._s3_invocations: list[tuple[str, str]] = []  # (function, queue ARN) of S3 -> Lambda notifications
        self._saved_environment: dict[str, str | None] | None = None
        self.events_file = Path(events_file) if events_file is not None else None
        self.event_log: EventLog | None = None  # the buses' events in events_file (one JSON per line)

    def fresh(self) -> LocalStack:
        """A new stack of the same template, parameters and settings, not created yet: the translated
        template (the slow part of making a stack, about half a second) is copied, not made again;
        everything that runs or records (runtime, APIs, pollers, environment, event log) is new."""
        import copy

        twin = copy.copy(self)
        twin.sam, twin.cfn, twin.code_dirs = copy.deepcopy(self.sam), copy.deepcopy(self.cfn), dict(self.code_dirs)
        twin.env_overrides = dict(self.env_overrides)
        twin.resolver = Resolver(
            twin.cfn,
            stack_name=self.name,
            region=self.region,
            account_id=self.account_id,
            parameters=dict(self._parameters),
        )
        twin.runtime = LambdaRuntime(self.region, self.account_id, large_requests=self._large_requests)
        twin.environment, twin.apis, twin.outputs, twin.consumers = {}, {}, {}, []
        twin._s3_invocations, twin._saved_environment, twin.event_log = [], None, None
        return twin

    # ------------------------------------------------------------------ names
    def physical_name(self, logical_id: str) -> str:
        return self.resolver.physical_name(logical_id)

    @property
    def function_names(self) -> dict[str, str]:
        """Logical id -> function name, for every function of the template."""
        return {lid: self.physical_name(lid) for lid in self._resources("AWS::Lambda::Function")}

    @property
    def state_machines(self) -> dict[str, str]:
        """Logical id -> state machine ARN."""
        return {lid: self.resolver.get_att(lid, "Arn") for lid in self._resources("AWS::StepFunctions::StateMachine")}

    def _resources(self, kind: str) -> list[str]:
        resources = self.cfn.get("Resources", {})
        return [lid for lid, r in resources.items() if r["Type"] == kind and self.resolver.exists(lid)]

    def _properties(self, logical_id: str) -> dict[str, Any]:
        return self.resolver.resolve(self.cfn["Resources"][logical_id].get("Properties", {}))

    # ------------------------------------------------------------------ lifecycle
    def up(self) -> LocalStack:
        """Create everything, apply the shared environment, then answer Lambda invokes in-process."""
        import boto3

        from image_import_dev.local import dynamodb_atomic

        # each DynamoDB request atomic, as DynamoDB's, wherever the stack runs (a server or a test's moto):
        # moto's transactions snapshot and restore whole tables, so two at once lose each other's writes
        dynamodb_atomic.install()

        functions = self._functions()
        environment = self._environment()  # a conflict fails here, before anything exists
        services = ("s3", "dynamodb", "stepfunctions", "sqs", "events")
        clients = {s: boto3.client(s, region_name=self.region) for s in services}
        self._warn_unsupported()
        try:
            # queues before buckets (notifications name them), dead-letter queues before the queues using them
            for logical_id in sorted(
                self._resources("AWS::SQS::Queue"), key=lambda q: "RedrivePolicy" in self._properties(q)
            ):
                self._create_queue(clients["sqs"], logical_id)
            for logical_id in self._resources("AWS::S3::Bucket"):
                self._create_bucket(clients["s3"], logical_id, clients["sqs"])
            for logical_id in self._resources("AWS::DynamoDB::Table"):
                self._create_table(clients["dynamodb"], logical_id)
            for logical_id in self._resources("AWS::StepFunctions::StateMachine"):
                self._create_state_machine(clients["stepfunctions"], logical_id)
            buses = [self.physical_name(lid) for lid in self._resources("AWS::Events::EventBus")]
            for bus in buses:
                clients["events"].create_event_bus(Name=bus)
            if self.events_file is not None:
                self.event_log = EventLog(
                    self.events_file, buses, name=self.name, region=self.region, account_id=self.account_id
                ).start()
            self.apis = {lid: self._rest_api(lid) for lid in self._resources("AWS::ApiGateway::RestApi")}
            self.outputs = {
                key: self.resolver.resolve(output["Value"])
                for key, output in self.cfn.get("Outputs", {}).items()
                if "Condition" not in output or self.resolver.condition(output["Condition"])
            }
            for function in functions:
                self.runtime.add(function)
            self._apply_environment(environment)
            self.runtime.install()
            self._start_event_sources()
        except BaseException:
            self.down()
            raise
        return self

    def down(self) -> None:
        """Stop answering Lambda invokes and put the process environment back. Idempotent."""
        for consumer in self.consumers:
            consumer.stop()  # first: a poller must not invoke into a runtime that is going away
        self.consumers = []
        if self.event_log is not None:
            self.event_log.stop()
            self.event_log = None
        self.runtime.uninstall()
        if self._saved_environment is not None:
            for key, value in self._saved_environment.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            self._saved_environment = None

    def __enter__(self) -> LocalStack:
        return self.up()

    def __exit__(self, *_: Any) -> None:
        self.down()

    # ------------------------------------------------------------------ functions and their environment
    def _functions(self) -> list[LocalFunction]:
        functions = []
        for logical_id in self._resources("AWS::Lambda::Function"):
            props = self._properties(logical_id)
            runtime = str(props.get("Runtime", "python"))
            if logical_id not in self.code_dirs or not runtime.startswith("python"):
                log.warning("function %s (%s) has no local Python code: not run locally", logical_id, runtime)
                continue
            functions.append(
                LocalFunction(
                    name=self.physical_name(logical_id),
                    code_dir=self.code_dirs[logical_id],
                    handler=str(props.get("Handler", "app.handler")),
                    timeout=int(props.get("Timeout", 3)),
                    memory_size=int(props.get("MemorySize", 128)),
                )
            )
        return functions

    def _environment(self) -> dict[str, str]:
        """The union of every function's variables; two different values are an error unless overridden."""
        merged: dict[str, str] = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        owner: dict[str, str] = {}
        for logical_id in self._resources("AWS::Lambda::Function"):
            variables = self._properties(logical_id).get("Environment", {}).get("Variables", {})
            for key, raw in variables.items():
                value = _env_string(raw)
                if key in owner and merged[key] != value and key not in self.env_overrides:
                    raise LocalStackError(
                        f"environment variable {key} differs between functions {owner[key]} ({merged[key]!r}) "
                        f"and {logical_id} ({value!r}); the local stack shares one process environment: "
                        "make them equal or pass an override"
                    )
                merged[key], owner[key] = value, owner.get(key, logical_id)
        return {**merged, **self.env_overrides}

    def _apply_environment(self, environment: dict[str, str]) -> None:
        if self._saved_environment is None:
            self._saved_environment = {key: os.environ.get(key) for key in environment}
        os.environ.update(environment)
        self.environment = environment

    # ------------------------------------------------------------------ resources
    def _create_bucket(self, s3: Any, logical_id: str, sqs: Any) -> None:
        props, name = self._properties(logical_id), self.physical_name(logical_id)
        location = {} if self.region == "us-east-1" else {"LocationConstraint": self.region}
        s3.create_bucket(Bucket=name, **({"CreateBucketConfiguration": location} if location else {}))
        if status := props.get("VersioningConfiguration", {}).get("Status"):
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        notifications = props.get("NotificationConfiguration", {})
        queues = [_queue_notification(q) for q in notifications.get("QueueConfigurations") or []]
        if lambdas := notifications.get("LambdaConfigurations"):
            # moto cannot invoke our functions itself: it notifies a queue made for the purpose, and a
            # poller hands each S3 event to the function, as S3 would (asynchronously)
            for number, config in enumerate(lambdas, start=1):
                url = sqs.create_queue(QueueName=f"{name}-to-lambda-{number}"[:80])["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
                queues.append(_queue_notification({**config, "Queue": arn}))
                self._s3_invocations.append((str(config["Function"]), arn))
        if queues:
            # moto delivers these itself, synchronously inside PutObject (keys quote_plus-encoded)
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"QueueConfigurations": queues}
            )
        if notifications.get("TopicConfigurations"):
            log.warning("bucket %s: TopicConfigurations are not delivered locally", logical_id)

    def _create_queue(self, sqs: Any, logical_id: str) -> None:
        props = self._properties(logical_id)
        attributes = {
            key: json.dumps(value) if isinstance(value, dict) else _env_string(value)
            for key, value in props.items()
            if key in ("DelaySeconds", "MessageRetentionPeriod", "VisibilityTimeout", "RedrivePolicy", "FifoQueue")
        }
        sqs.create_queue(QueueName=self.physical_name(logical_id), Attributes=attributes)

    def _start_event_sources(self) -> None:
        for function, queue_arn in self._s3_invocations:
            if not self.runtime.knows(function):
                log.warning("bucket notification to %s: no such local function", function)
                continue
            consumer = QueueConsumer(self.runtime, function, queue_arn, region=self.region, s3_events=True)
            consumer.start()
            self.consumers.append(consumer)
        for logical_id in self._resources("AWS::Lambda::EventSourceMapping"):
            props = self._properties(logical_id)
            source, function = str(props.get("EventSourceArn", "")), str(props.get("FunctionName", ""))
            if ":sqs:" not in source or not self.runtime.knows(function):
                log.warning("event source %s (%s) is not run locally", logical_id, source)
                continue
            consumer = QueueConsumer(
                self.runtime,
                function,
                source,
                region=self.region,
                batch_size=int(props.get("BatchSize", 10)),
                report_batch_item_failures="ReportBatchItemFailures" in (props.get("FunctionResponseTypes") or []),
            )
            consumer.start()
            self.consumers.append(consumer)

    def _create_table(self, dynamodb: Any, logical_id: str) -> None:
        props, name = self._properties(logical_id), self.physical_name(logical_id)
        request: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode")
            or ("PROVISIONED" if "ProvisionedThroughput" in props else "PAY_PER_REQUEST"),
        }
        if "ProvisionedThroughput" in props:
            request["ProvisionedThroughput"] = _throughput(props["ProvisionedThroughput"])
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if props.get(key):
                request[key] = [_index(index) for index in props[key]]
        if view := props.get("StreamSpecification", {}).get("StreamViewType"):
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
        dynamodb.create_table(**request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl and str(ttl.get("Enabled")).lower() == "true":
            spec = {"Enabled": True, "AttributeName": ttl["AttributeName"]}
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec)

    def _create_state_machine(self, sfn: Any, logical_id: str) -> None:
        props = self._properties(logical_id)
        if "DefinitionString" in props:
            definition = str(props["DefinitionString"])
        elif "Definition" in props:
            definition = json.dumps(props["Definition"])
        else:
            raise LocalStackError(f"state machine {logical_id}: only a local or inline definition runs locally")
        substitutions = {k: str(v) for k, v in (props.get("DefinitionSubstitutions") or {}).items()}
        definition = re.sub(r"\$\{([^}]+)\}", lambda m: substitutions.get(m.group(1), m.group(0)), definition)
        if left := sorted(set(re.findall(r"\$\{[^}]+\}", definition))):
            raise LocalStackError(f"state machine {logical_id}: no DefinitionSubstitutions for {', '.join(left)}")
        role = props.get("RoleArn") or f"arn:aws:iam::{self.account_id}:role/{self.name}-{logical_id}Role"
        extra = {"type": props["StateMachineType"]} if props.get("StateMachineType") else {}
        sfn.create_state_machine(name=self.physical_name(logical_id), definition=definition, roleArn=role, **extra)

    def _rest_api(self, logical_id: str) -> RestApi:
        props = self._properties(logical_id)
        if "Body" not in props:
            raise LocalStackError(f"REST API {logical_id}: only an inline OpenAPI Body runs locally")
        stage, variables = "", None
        for stage_id in self._resources("AWS::ApiGateway::Stage"):
            stage_props = self.cfn["Resources"][stage_id].get("Properties", {})
            if stage_props.get("RestApiId") == {"Ref": logical_id}:
                resolved = self._properties(stage_id)
                stage, variables = str(resolved.get("StageName", "")), resolved.get("Variables")
        return RestApi.from_openapi(
            logical_id,
            props["Body"],
            api_id=self.physical_name(logical_id),
            stage=stage or "Stage",
            region=self.region,
            account_id=self.account_id,
            binary_media_types=props.get("BinaryMediaTypes"),
            stage_variables=variables,
        )

    def _warn_unsupported(self) -> None:
        handled = {
            "AWS::S3::Bucket",
            "AWS::DynamoDB::Table",
            "AWS::Lambda::Function",
            "AWS::StepFunctions::StateMachine",
            "AWS::ApiGateway::RestApi",
            "AWS::SQS::Queue",
            "AWS::Lambda::EventSourceMapping",
            "AWS::Events::EventBus",
        }
        for logical_id, resource in self.cfn.get("Resources", {}).items():
            if resource["Type"] not in handled | NOTHING_TO_DO and self.resolver.exists(logical_id):
                log.warning("%s (%s) is not created by the local stack", logical_id, resource["Type"])

    # ------------------------------------------------------------------ using it
    def settle(self, timeout: float = 30.0) -> None:
        """Wait until every queue-fed function has handled what is waiting (say, the events of an upload)."""
        wait_until_idle(self.consumers, timeout)

    def wait(self, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
        """Poll a Step Functions execution until it is no longer RUNNING; its description."""
        import boto3

        sfn = boto3.client("stepfunctions", region_name=self.region)
        deadline = time.monotonic() + timeout
        while (execution := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still RUNNING after {timeout} s")
            time.sleep(0.02)
        return execution

    def invoke_api(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str | list[str]] | None = None,
        query: Mapping[str, list[str]] | None = None,
        body: bytes | None = None,
        source_ip: str = "127.0.0.1",
        api: str | None = None,
    ) -> dict[str, Any]:
        """One request through the emulated API Gateway: the Lambda proxy result dict, or API Gateway's own."""
        if api is None and len(self.apis) != 1:
            raise LocalStackError(f"the template has {len(self.apis)} REST APIs: name one with api=")
        rest_api = self.apis[api] if api is not None else next(iter(self.apis.values()))
        request = make_request(method, path, headers=headers, query=query, body=body, source_ip=source_ip)
        return rest_api.invoke(self.runtime, request)


def _env_string(value: Any) -> str:
    if isinstance(value, bool):  # CloudFormation writes YAML booleans as "true"/"false"
        return "true" if value else "false"
    return str(value)


def _queue_notification(config: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation QueueConfiguration as S3's API takes it."""
    api: dict[str, Any] = {"QueueArn": config["Queue"], "Events": [config["Event"]]}
    rules = config.get("Filter", {}).get("S3Key", {}).get("Rules")
    if rules:
        api["Filter"] = {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]}}
    return api


def _throughput(value: dict[str, Any]) -> dict[str, int]:
    return {k: int(value[k]) for k in ("ReadCapacityUnits", "WriteCapacityUnits")}


def _index(index: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation index as the DynamoDB API takes it (CloudFormation adds keys the API rejects)."""
    kept = {k: index[k] for k in ("IndexName", "KeySchema", "Projection", "OnDemandThroughput") if k in index}
    if "ProvisionedThroughput" in index:
        kept["ProvisionedThroughput"] = _throughput(index["ProvisionedThroughput"])
    return kept
