"""template.yaml deploys: CloudFormation refuses a circular dependency, so the translated template has none.

The staging bucket notifies a queue, not a function: every function references the bucket, so a
bucket that referenced a function (an S3 event source) would close a cycle.
"""

from __future__ import annotations

import re
from typing import Any

from image_import_dev.local.template import load_sam, translate

from tests.support.paths import ROOT


def dependencies(cfn: dict[str, Any]) -> dict[str, set[str]]:
    resources = cfn["Resources"]

    def refs(value: Any) -> set[str]:
        found: set[str] = set()
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "Ref" and isinstance(item, str):
                    found.add(item)
                elif key == "Fn::GetAtt":
                    found.add(item[0] if isinstance(item, list) else item.split(".")[0])
                elif key == "Fn::Sub":
                    text = item if isinstance(item, str) else item[0]
                    found |= {name.split(".")[0] for name in re.findall(r"\$\{([^}!]+)\}", text)}
                    if not isinstance(item, str):
                        found |= refs(item[1])
                else:
                    found |= refs(item)
        elif isinstance(value, list):
            for item in value:
                found |= refs(item)
        return found

    graph = {}
    for logical_id, resource in resources.items():
        depends = resource.get("DependsOn", [])
        depends = {depends} if isinstance(depends, str) else set(depends)
        graph[logical_id] = (refs(resource.get("Properties", {})) | depends) & set(resources)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def translated(sam_hook=None) -> dict[str, Any]:
    return translate(load_sam(ROOT / "template.yaml", sam_hook).template, {}, "us-east-1")


def test_the_template_has_no_circular_dependency():
    assert find_cycle(dependencies(translated())) is None


def test_an_s3_event_source_on_the_staging_bucket_would_be_circular():
    def s3_event(sam):
        sam["Resources"]["OnUploadFunction"]["Properties"]["Events"] = {
            "Uploads": {
                "Type": "S3",
                "Properties": {"Bucket": {"Ref": "StagingBucket"}, "Events": "s3:ObjectCreated:*"},
            }
        }
        sam["Resources"]["StagingBucket"].pop("DependsOn")
        sam["Resources"]["StagingBucket"]["Properties"].pop("NotificationConfiguration")
        return sam

    cycle = find_cycle(dependencies(translated(s3_event)))
    assert cycle is not None and "StagingBucket" in cycle


def test_uploads_under_the_prefix_reach_the_upload_queue_and_nothing_else_does():
    bucket = translated()["Resources"]["StagingBucket"]["Properties"]
    [config] = bucket["NotificationConfiguration"]["QueueConfigurations"]
    assert config["Filter"] == {"S3Key": {"Rules": [{"Name": "prefix", "Value": "uploads/"}]}}
    assert config["Queue"] == {"Fn::GetAtt": ["UploadQueue", "Arn"]}
