"""The template as CloudFormation sees it, translated offline with samtranslator (no AWS account)."""

from __future__ import annotations

from tests.support.paths import ROOT

MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "AWSXrayWriteOnlyAccess": "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
}


class _ManagedPolicies:
    def load(self) -> dict[str, str]:
        return MANAGED_POLICIES


def translate(plugins: list[str] | tuple[str, ...] | None = None) -> dict:
    """template.yaml with the shipped plugin chain (or ``plugins``), as plain CloudFormation."""
    import copy
    import os

    from image_import_dev.render import apply_plugins
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    from image_import.settings import load_settings

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    sam = yaml_parse((ROOT / "template.yaml").read_text())
    if plugins is not None:
        sam = apply_plugins(sam, plugins)
    else:
        settings = load_settings(ROOT / "config")
        sam = apply_plugins(sam, settings.image_import_plugins, settings.multi_store, settings)
    sam = copy.deepcopy(sam)
    for logical_id, resource in sam["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{logical_id}.zip"
    return transform(sam, {}, _ManagedPolicies())


def resources_of(cfn: dict, kind: str) -> dict[str, dict]:
    return {lid: r for lid, r in cfn["Resources"].items() if r["Type"] == kind}
