"""Reading IAM statements and resources out of the translated template."""

from __future__ import annotations

from tests.support.infra import resources_of


def statements(role: dict) -> list[tuple[str, dict]]:
    """Every statement a role may hold: both branches of a conditional (Fn::If) statement, and a policy
    under a condition (multi-store's StoreBucketArns) as if its condition held."""
    policies = [p["Fn::If"][1] if "Fn::If" in p else p for p in role["Properties"].get("Policies", [])]
    return [
        (policy["PolicyName"], branch)
        for policy in policies
        for statement in policy["PolicyDocument"]["Statement"]
        for branch in (statement["Fn::If"][1:] if "Fn::If" in statement else [statement])
        if branch != {"Ref": "AWS::NoValue"}
    ]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def function_roles(cfn) -> dict[str, dict]:
    return {
        role_id: role
        for role_id, role in resources_of(cfn, "AWS::IAM::Role").items()
        if role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        == {"Service": ["lambda.amazonaws.com"]}
    }


def _resources(statement: dict) -> list[str]:
    """Each resource as text: the Fn::Sub string ("${StoreBucket.Arn}/images/*") or its JSON."""
    import json

    return [
        r["Fn::Sub"] if isinstance(r, dict) and isinstance(r.get("Fn::Sub"), str) else json.dumps(r)
        for r in as_list(statement.get("Resource"))
    ]
