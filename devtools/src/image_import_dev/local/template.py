"""SAM template -> CloudFormation (samtranslator, offline) -> deterministic names and resolved values.

Physical names are ``<stack>-<LogicalId>`` (bucket names lower-cased), so tests and tools can
predict them. Intrinsics are resolved here, not by moto's CloudFormation, which ignores
``DefinitionSubstitutions`` and the API's OpenAPI body.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from image_import_dev.local import LocalStackError

SamHook = Callable[[dict[str, Any]], dict[str, Any]]

PLACEHOLDER_BUCKET = "local-artifacts"  # what `sam package` would upload to; never read locally
NAME_LIMITS = {
    "AWS::Lambda::Function": 64,
    "AWS::StepFunctions::StateMachine": 80,
    "AWS::IAM::Role": 64,
    "AWS::DynamoDB::Table": 255,
    "AWS::SQS::Queue": 80,
}
EXPLICIT_NAMES = {
    "AWS::S3::Bucket": "BucketName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Events::EventBus": "Name",
}


@dataclass
class SamApp:
    """The SAM template ready for translation, and what translation would lose: local code folders."""

    template: dict[str, Any]
    code_dirs: dict[str, Path]  # function logical id -> folder holding its handler module


def load_sam(template_path: Path, sam_hook: SamHook | None = None) -> SamApp:
    """Read the template, let the hook edit it, and do what `sam package` does with local paths."""
    from samtranslator.yaml_helper import yaml_parse

    root = template_path.parent
    sam = yaml_parse(template_path.read_text(encoding="utf-8"))
    if sam_hook is not None:
        sam = sam_hook(sam)
        if not isinstance(sam, dict) or "Resources" not in sam:
            raise LocalStackError("sam_hook must return the template dict (with its Resources)")
    code_dirs: dict[str, Path] = {}
    global_code = sam.get("Globals", {}).get("Function", {}).get("CodeUri")
    for logical_id, resource in sam.get("Resources", {}).items():
        kind, props = resource.get("Type"), resource.setdefault("Properties", {})
        if kind == "AWS::Serverless::Function":
            code = props.get("CodeUri", global_code)
            if _is_local(code):
                code_dirs[logical_id] = root / code
                props["CodeUri"] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Lambda::Function" and _is_local(props.get("Code")):
            code_dirs[logical_id] = root / props["Code"]
            props["Code"] = {"S3Bucket": PLACEHOLDER_BUCKET, "S3Key": f"{logical_id}.zip"}
        elif kind == "AWS::Serverless::LayerVersion" and _is_local(props.get("ContentUri")):
            # layers add nothing locally: their package is installed in the venv
            props["ContentUri"] = f"s3://{PLACEHOLDER_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::StateMachine" and _is_local(props.get("DefinitionUri")):
            props["Definition"] = _read_document(root / props.pop("DefinitionUri"))
        elif kind == "AWS::Serverless::Api" and _is_local(props.get("DefinitionUri")):
            props["DefinitionBody"] = _read_document(root / props.pop("DefinitionUri"))
    if _is_local(global_code):
        sam["Globals"]["Function"].pop("CodeUri")
    return SamApp(sam, code_dirs)


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and not uri.startswith("s3://")


def _read_document(path: Path) -> Any:
    from samtranslator.yaml_helper import yaml_parse  # JSON is YAML, and YAML may hold !Sub and friends

    return yaml_parse(path.read_text(encoding="utf-8"))


def translate(sam: dict[str, Any], parameters: dict[str, Any], region: str) -> dict[str, Any]:
    """samtranslator's ``transform``, offline: a region given explicitly and no managed-policy lookups."""
    import boto3
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator
    from samtranslator.utils.py27hash_fix import to_py27_compatible_template, undo_mark_unicode_str_in_template

    sam = copy.deepcopy(sam)
    parameters = dict(parameters)
    try:
        to_py27_compatible_template(sam, parameters)
        # an explicit region: samtranslator would otherwise ask boto3's environment for one
        translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name=region))
        cfn = translator.translate(sam, parameter_values=parameters, get_managed_policy_map=lambda: {})
    except InvalidDocumentException as exc:
        raise LocalStackError("; ".join(str(cause) for cause in exc.causes) or str(exc)) from exc
    return undo_mark_unicode_str_in_template(cfn)


_NO_VALUE = object()  # AWS::NoValue: the key or item disappears


class Resolver:
    """Resolves Ref, Fn::GetAtt, Fn::Sub, Fn::Join and friends against one translated template."""

    def __init__(
        self, cfn: dict[str, Any], *, stack_name: str, region: str, account_id: str, parameters: dict[str, Any]
    ):
        self.cfn, self.stack_name, self.region, self.account_id = cfn, stack_name, region, account_id
        self.resources: dict[str, dict[str, Any]] = cfn.get("Resources", {})
        self.parameters = _parameter_values(cfn.get("Parameters", {}), parameters)
        self.partition = (
            "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        )
        self._conditions: dict[str, bool] = {}

    # ------------------------------------------------------------------ names
    def physical_name(self, logical_id: str) -> str:
        resource = self._resource(logical_id)
        kind, props = resource["Type"], resource.get("Properties", {})
        explicit = EXPLICIT_NAMES.get(kind)
        if explicit and props.get(explicit):
            return str(self.resolve(props[explicit]))
        base = f"{self.stack_name}-{logical_id}"
        if kind == "AWS::S3::Bucket":
            return bucket_name(base)
        if kind == "AWS::ApiGateway::RestApi":
            return hashlib.sha1(base.encode()).hexdigest()[:10]  # looks like an API id, and stays put
        return _shorten(base, NAME_LIMITS.get(kind, 255))

    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:{self.partition}:cloudformation:{self.region}:{self.account_id}:stack/{self.stack_name}/local",
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "AWS::NoValue": _NO_VALUE,
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        kind = self._resource(name)["Type"]
        if kind == "AWS::StepFunctions::StateMachine":
            return self.get_att(name, "Arn")
        if kind == "AWS::Lambda::LayerVersion":
            return f"arn:{self.partition}:lambda:{self.region}:{self.account_id}:layer:{self.physical_name(name)}:1"
        if kind == "AWS::SQS::Queue":
            return self.get_att(name, "QueueUrl")
        if kind == "AWS::ApiGateway::Stage":
            return self.resolve(self._resource(name).get("Properties", {}).get("StageName", name))
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._resource(logical_id)["Type"]
        name, p, r, a = self.physical_name(logical_id), self.partition, self.region, self.account_id
        attributes = {
            ("AWS::Lambda::Function", "Arn"): f"arn:{p}:lambda:{r}:{a}:function:{name}",
            ("AWS::DynamoDB::Table", "Arn"): f"arn:{p}:dynamodb:{r}:{a}:table/{name}",
            ("AWS::S3::Bucket", "Arn"): f"arn:{p}:s3:::{name}",
            ("AWS::S3::Bucket", "DomainName"): f"{name}.s3.amazonaws.com",
            ("AWS::S3::Bucket", "RegionalDomainName"): f"{name}.s3.{r}.amazonaws.com",
            ("AWS::StepFunctions::StateMachine", "Arn"): f"arn:{p}:states:{r}:{a}:stateMachine:{name}",
            ("AWS::StepFunctions::StateMachine", "Name"): name,
            ("AWS::IAM::Role", "Arn"): f"arn:{p}:iam::{a}:role/{name}",
            ("AWS::Logs::LogGroup", "Arn"): f"arn:{p}:logs:{r}:{a}:log-group:{name}:*",
            ("AWS::SQS::Queue", "Arn"): f"arn:{p}:sqs:{r}:{a}:{name}",
            ("AWS::SQS::Queue", "QueueName"): name,
            ("AWS::SQS::Queue", "QueueUrl"): f"https://sqs.{r}.amazonaws.com/{a}/{name}",
            ("AWS::Events::EventBus", "Arn"): f"arn:{p}:events:{r}:{a}:event-bus/{name}",
            ("AWS::Events::EventBus", "Name"): name,
            ("AWS::ApiGateway::RestApi", "RestApiId"): name,
            ("AWS::ApiGateway::RestApi", "RootResourceId"): hashlib.sha1(name.encode()).hexdigest()[:10],
        }
        if (kind, attribute) not in attributes:
            raise LocalStackError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) is not supported by the local stack")
        return attributes[(kind, attribute)]

    def _resource(self, logical_id: str) -> dict[str, Any]:
        if logical_id not in self.resources:
            raise LocalStackError(f"the template has no resource or parameter named {logical_id!r}")
        return self.resources[logical_id]

    # ------------------------------------------------------------------ conditions
    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            expression = self.cfn.get("Conditions", {}).get(name)
            if expression is None:
                raise LocalStackError(f"the template has no condition named {name!r}")
            self._conditions[name] = bool(self.resolve(expression))
        return self._conditions[name]

    def exists(self, logical_id: str) -> bool:
        """False for a resource whose Condition is false: CloudFormation would not create it."""
        condition = self.resources[logical_id].get("Condition")
        return condition is None or self.condition(condition)

    # ------------------------------------------------------------------ values
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (self.resolve(v) for v in value) if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            function = self._functions().get(key)
            if key == "Condition" and not isinstance(argument, str):
                function = None  # a property named Condition (IAM statements), not the intrinsic
            if function is not None:
                return function(argument)
            if key.startswith("Fn::"):
                raise LocalStackError(f"{key} is not supported by the local stack")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": lambda a: self.ref(a),
            "Fn::GetAtt": self._get_att,
            "Fn::Sub": self._sub,
            "Fn::Join": lambda a: str(a[0]).join(str(v) for v in self.resolve(a[1])),
            "Fn::Select": lambda a: self.resolve(a[1])[int(self.resolve(a[0]))],
            "Fn::Split": lambda a: str(self.resolve(a[1])).split(a[0]),
            "Fn::If": lambda a: self.resolve(a[1] if self.condition(a[0]) else a[2]),
            "Fn::Equals": lambda a: str(self.resolve(a[0])) == str(self.resolve(a[1])),
            "Fn::Not": lambda a: not self.resolve(a[0]),
            "Fn::And": lambda a: all(self.resolve(c) for c in a),
            "Fn::Or": lambda a: any(self.resolve(c) for c in a),
            "Condition": lambda a: self.condition(a),
            "Fn::FindInMap": lambda a: self.cfn["Mappings"][self.resolve(a[0])][self.resolve(a[1])][self.resolve(a[2])],
            "Fn::GetAZs": lambda _: [f"{self.region}{zone}" for zone in "abc"],
            "Fn::Base64": lambda a: base64.b64encode(str(self.resolve(a)).encode()).decode(),
            "Fn::ToJsonString": lambda a: json.dumps(self.resolve(a), separators=(",", ":")),
        }

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.get_att(logical_id, self.resolve(attribute))

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def substitute(match: re.Match[str]) -> str:
            key = match.group(1)
            if key.startswith("!"):  # ${!Literal} stays ${Literal}
                return "${" + key[1:] + "}"
            if key in variables:
                return str(variables[key])
            if "." in key and not key.startswith("AWS::"):
                return self.get_att(*key.split(".", 1))
            return str(self.ref(key))

        return re.sub(r"\$\{([^}]+)\}", substitute, text)


def _parameter_values(declared: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            raise LocalStackError(f"parameter {name!r} has no default: pass it in parameters")
        kind = spec.get("Type", "String")
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = value if isinstance(value, list) else [v.strip() for v in str(value).split(",")]
        else:
            value = str(value)  # CloudFormation parameters are strings, numbers included
        values[name] = value
    return values


def bucket_name(base: str) -> str:
    """A valid S3 bucket name from any text: lower case, [a-z0-9.-], 3 to 63 characters."""
    name = re.sub(r"[^a-z0-9.-]+", "-", base.lower()).strip(".-")
    name = re.sub(r"\.{2,}", ".", name)
    if len(name) > 63:
        name = name[:54].rstrip(".-") + "-" + hashlib.sha1(base.encode()).hexdigest()[:8]
    return name if len(name) >= 3 else (name + "-bucket").strip("-")


def _shorten(name: str, limit: int) -> str:
    if len(name) <= limit:
        return name
    return name[: limit - 9] + "-" + hashlib.sha1(name.encode()).hexdigest()[:8]
