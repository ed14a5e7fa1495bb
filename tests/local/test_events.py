"""Bucket notifications to SQS and SQS event sources: what AWS runs for a template, run in-process."""

from __future__ import annotations

import boto3
import pytest


def with_inbox(sam: dict) -> dict:
    """The fixture app plus: a bucket notifying a queue of objects under in/, and a function consuming it."""
    resources = sam["Resources"]
    resources["InboxQueue"] = {"Type": "AWS::SQS::Queue", "Properties": {"VisibilityTimeout": 30}}
    resources["InboxBucket"] = {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "NotificationConfiguration": {
                "QueueConfigurations": [
                    {
                        "Event": "s3:ObjectCreated:*",
                        "Queue": {"Fn::GetAtt": ["InboxQueue", "Arn"]},
                        "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}},
                    }
                ]
            }
        },
    }
    resources["RecorderFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "CodeUri": "functions/recorder/",
            "Handler": "app.handler",
            "Events": {
                "Inbox": {
                    "Type": "SQS",
                    "Properties": {
                        "Queue": {"Fn::GetAtt": ["InboxQueue", "Arn"]},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    },
                }
            },
        },
    }
    return sam


@pytest.fixture
def inbox(make_stack):
    return make_stack(sam_hook=with_inbox)


def recorded(stack) -> set[str]:
    items = boto3.client("dynamodb").scan(TableName=stack.physical_name("ItemsTable"))["Items"]
    return {item["id"]["S"] for item in items}


def put(stack, key: str) -> None:
    boto3.client("s3").put_object(Bucket=stack.physical_name("InboxBucket"), Key=key, Body=b"x")


def test_given_an_object_under_the_prefix_when_put_then_the_consumer_function_gets_its_event(inbox):
    put(inbox, "in/a b.txt")
    inbox.settle()
    assert recorded(inbox) == {"in/a b.txt"}


def test_given_an_object_outside_the_prefix_when_put_then_no_event_is_delivered(inbox):
    put(inbox, "out/a")
    inbox.settle()
    assert recorded(inbox) == set()


def test_given_a_reported_failure_then_only_that_message_stays_on_the_queue(inbox):
    put(inbox, "in/fail")
    put(inbox, "in/ok")
    inbox.settle()
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName=inbox.physical_name("InboxQueue"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert recorded(inbox) == {"in/ok"}
    assert attributes["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"  # back after the timeout


def test_given_the_stack_is_down_then_its_queue_consumers_are_stopped(inbox):
    [consumer] = inbox.consumers
    inbox.down()
    assert inbox.consumers == [] and consumer._thread is None


def with_s3_event_source(sam: dict) -> dict:
    """The fixture app plus a function with an S3 event source (a bucket -> Lambda notification)."""
    sam["Resources"]["DropBucket"] = {"Type": "AWS::S3::Bucket"}
    event = {
        "Type": "S3",
        "Properties": {
            "Bucket": {"Ref": "DropBucket"},
            "Events": "s3:ObjectCreated:*",
            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "in/"}]}},
        },
    }
    sam["Resources"]["DropFunction"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {"CodeUri": "functions/recorder/", "Handler": "app.handler", "Events": {"Drop": event}},
    }
    return sam


def test_given_an_s3_event_source_when_an_object_is_put_under_its_prefix_then_the_function_gets_the_s3_event(
    make_stack,
):
    stack = make_stack(sam_hook=with_s3_event_source)
    s3 = boto3.client("s3")
    s3.put_object(Bucket=stack.physical_name("DropBucket"), Key="in/x y", Body=b"x")
    s3.put_object(Bucket=stack.physical_name("DropBucket"), Key="elsewhere", Body=b"x")
    stack.settle()
    assert recorded(stack) == {"in/x y"}
