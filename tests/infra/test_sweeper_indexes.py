"""The sweeper's indexes exist where its tables do, and its role reads them, never a whole table."""

from __future__ import annotations

import pytest

from image_import.adapters.records import ImageRepository, TaskRepository
from tests.infra.test_template_safety import allowed_actions, statements


@pytest.mark.parametrize(("table", "repository"), [("ImagesTable", ImageRepository), ("TasksTable", TaskRepository)])
def test_each_table_has_the_status_index_its_repository_queries(cfn, table, repository):
    properties = cfn["Resources"][table]["Properties"]
    [index] = [i for i in properties["GlobalSecondaryIndexes"] if i["IndexName"] == repository.BY_STATUS_INDEX]
    assert index["KeySchema"] == [
        {"AttributeName": "status", "KeyType": "HASH"},
        {"AttributeName": "updated_at", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}  # the sweeper reads the records again by id
    types = {a["AttributeName"]: a["AttributeType"] for a in properties["AttributeDefinitions"]}
    assert types["status"] == types["updated_at"] == "S"


def test_the_sweeper_queries_only_the_status_indexes_and_never_scans(cfn):
    role = cfn["Resources"]["SweeperFunctionRole"]
    assert "dynamodb:Scan" not in allowed_actions(role)
    queried = [
        resource
        for _, statement in statements(role)
        if "dynamodb:Query" in statement["Action"]
        for resource in statement["Resource"]
    ]
    assert queried == [
        {"Fn::Sub": "${ImagesTable.Arn}/index/by-status"},
        {"Fn::Sub": "${TasksTable.Arn}/index/by-status"},
    ]
