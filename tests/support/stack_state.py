"""What the integration stack holds and runs: its executions, its objects; the process caches."""

from __future__ import annotations


def reset_process_caches() -> None:
    """Settings, resource names, ports, boto3 clients, policy, identity and plugins are cached per process."""
    from image_import import composition

    composition.reset()


def wait_for_executions(stack, timeout: float = 60.0) -> list[dict]:
    import boto3

    sfn = boto3.client("stepfunctions")
    arn = stack.outputs["ImportStateMachineArn"]
    results = []
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        results.append(stack.wait(execution["executionArn"], timeout))
    return results


def bucket_keys(stack, logical_id: str) -> list[str]:
    import boto3

    name = stack.physical_name(logical_id)
    return [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=name).get("Contents", [])]
