"""The dynamodb identity backend through the whole stack: the CLI issues, the authorizer checks."""

from __future__ import annotations

import pytest

from tests.support.api import Api
from tests.support.config import set_option


@pytest.fixture
def stack_config(config_dir):
    set_option(config_dir, "glance-api.conf", "identity", "backend", "dynamodb")
    return config_dir


def cli(stack, capsys, *args: str) -> tuple[int, str]:
    from image_import_dev.tokens import main

    code = main(["--table", stack.physical_name("TokensTable"), *args])
    return code, capsys.readouterr().out.strip()


def issue(stack, capsys, ttl: str = "1h") -> str:
    code, token = cli(
        stack, capsys, "issue", "--user", "u1", "--project", "p1", "--roles", "Member,reader", "--ttl", ttl
    )
    assert code == 0
    return token


def test_given_an_issued_token_when_calling_the_api_then_it_acts_as_that_user(stack, capsys):
    token = issue(stack, capsys)
    image = Api(stack, token).create()
    assert image["owner"] == "p1"


def test_given_an_issued_token_then_the_table_holds_its_hash_and_never_the_token(stack, capsys):
    import boto3

    from image_import.identity.token_table import hash_token

    token = issue(stack, capsys)
    items = boto3.client("dynamodb").scan(TableName=stack.physical_name("TokensTable"))["Items"]
    assert [item["token_hash"]["S"] for item in items] == [hash_token(token)]
    assert token not in repr(items)


def test_given_a_revoked_token_when_calling_the_api_then_401(stack, capsys):
    token = issue(stack, capsys)
    assert cli(stack, capsys, "revoke", token)[0] == 0
    assert Api(stack, token).call("GET", "/v2/images").status == 401


def test_given_an_expired_token_when_calling_the_api_then_401(stack):
    import time

    from image_import.adapters.tokens import DynamoTokenStore
    from image_import.identity.token_table import issue as issue_token

    # issued two minutes ago for one minute; DynamoDB's TTL has not removed it yet
    store = DynamoTokenStore(stack.physical_name("TokensTable"))
    token = issue_token(store, "u1", "p1", ["member"], ttl=60, now=time.time() - 120)
    assert Api(stack, token).call("GET", "/v2/images").status == 401


def test_given_an_unknown_token_when_calling_the_api_then_401(stack):
    assert Api(stack, "member-token").call("GET", "/v2/images").status == 401  # the file's tokens do not count


class TestTheTokenBackendParameter:
    """`TokenBackend` (template parameter) wins over `[identity] backend` in glance-api.conf."""

    @pytest.fixture
    def stack_config(self, config_dir):
        set_option(config_dir, "glance-api.conf", "identity", "backend", "token_file")
        return config_dir

    @pytest.fixture
    def stack_parameters(self):
        return {"TokenBackend": "dynamodb"}

    def test_given_token_file_in_the_config_and_dynamodb_in_the_parameter_then_issued_tokens_work(self, stack, capsys):
        assert Api(stack, "member-token").call("GET", "/v2/images").status == 401
        assert Api(stack, issue(stack, capsys)).call("GET", "/v2/images").status == 200


class TestTheLocalStackWithoutParameters:
    @pytest.fixture
    def stack_config(self, config_dir):
        return config_dir  # as shipped: token_file

    def test_given_no_parameter_then_the_configuration_chooses_the_backend(self, stack):
        # locally the configuration decides; the template's default (dynamodb) applies when deployed
        assert Api(stack, "member-token").call("GET", "/v2/images").status == 200
