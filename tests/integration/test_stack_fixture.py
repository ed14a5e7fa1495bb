"""The `stack` fixture: a stack per test, its translated template shared by every test of the same configuration."""

from __future__ import annotations

import os

import boto3
import pytest

from tests.support.config import set_option
from tests.support.stacks import configuration_key, prepared_stack

pytestmark = pytest.mark.fast  # in the fast tier (make test-fast)


def functions_of(local) -> set[str]:
    return {lid for lid, r in local.cfn["Resources"].items() if r["Type"] == "AWS::Lambda::Function"}


def test_given_a_stack_then_its_functions_read_this_tests_copy_of_the_configuration(stack, stack_config):
    assert os.environ["IMAGE_IMPORT_CONFIG_DIR"] == str(stack_config)


def test_given_an_image_made_in_one_stack_when_the_next_stack_of_the_same_configuration_starts_then_it_is_empty(
    config_dir, aws_env
):
    from moto import mock_aws

    tables = []
    for _ in range(2):
        with mock_aws():
            local = prepared_stack(config_dir, parameters={}, events_file=None, large_requests=False).up()
            try:
                table = local.physical_name("ImagesTable")
                tables.append(boto3.client("dynamodb").scan(TableName=table)["Items"])
                boto3.client("dynamodb").put_item(TableName=table, Item={"id": {"S": "x"}})
            finally:
                local.down()
    assert tables == [[], []]


def test_given_configurations_that_differ_when_prepared_then_each_gets_its_own_template(config_dir, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    for path in config_dir.iterdir():
        if path.is_file():
            (other / path.name).write_bytes(path.read_bytes())
    set_option(other, "glance-image-import.conf", "image_import_opts", "image_import_plugins", "[]")

    assert configuration_key(config_dir, {}, False) == configuration_key(config_dir, {}, False)
    assert configuration_key(config_dir, {}, False) != configuration_key(other, {}, False)
    assert configuration_key(config_dir, {}, False) != configuration_key(config_dir, {"A": "b"}, False)
    assert configuration_key(config_dir, {}, False) != configuration_key(config_dir, {}, True)
    shipped = prepared_stack(config_dir, parameters={}, events_file=None, large_requests=False)
    without_plugins = prepared_stack(other, parameters={}, events_file=None, large_requests=False)
    assert functions_of(without_plugins) < functions_of(shipped)
