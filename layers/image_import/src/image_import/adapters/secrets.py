"""Secrets a deployed stack keeps out of its configuration layer: Secrets Manager and SSM Parameter Store."""

from __future__ import annotations

import json

from image_import.adapters.aws import client


def secret_password(secret_arn: str) -> str:
    """A Secrets Manager secret: its string as it is, or the ``password`` of a JSON object
    (the shape the console's "other type of secret" and RDS-style secrets have)."""
    text = client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict) and isinstance(document.get("password"), str):
        return document["password"]
    return text


def parameter_password(name: str) -> str:
    """An SSM parameter (a SecureString, decrypted by SSM with its KMS key)."""
    return client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
