"""The sweeper's indexes exist where its tables do, and its role reads them, never a whole table."""

from __future__ import annotations

import pytest

from image_import.adapters.records import ImageIndexes, TaskRepository
from tests.support.template import statements


@pytest.mark.parametrize(("table", "repository"), [("ImagesTable", ImageIndexes), ("TasksTable", TaskRepository)])
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


def test_the_sweeper_queries_only_its_indexes_and_scans_only_the_counter_rows(cfn):
    role = cfn["Resources"]["SweeperFunctionRole"]

    def resources_of(action):
        return [
            resource
            for _, statement in statements(role)
            if action in statement["Action"]
            for resource in (
                statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            )
        ]

    assert resources_of("dynamodb:Query") == [
        {"Fn::Sub": "${ImagesTable.Arn}/index/by-status"},
        {"Fn::Sub": "${TasksTable.Arn}/index/by-status"},
        {"Fn::Sub": "${ImagesTable.Arn}/index/by-owner"},  # the counters' repair: a project's images
    ]
    # the counters' repair lists the projects: the sparse by-usage index (a row per project), never a table
    assert resources_of("dynamodb:Scan") == [{"Fn::Sub": "${ImagesTable.Arn}/index/by-usage"}]
