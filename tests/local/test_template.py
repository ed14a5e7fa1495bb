"""Template resolution: names and intrinsic functions, without AWS."""

from __future__ import annotations

import re

import pytest
from image_import_dev.local import LocalStackError
from image_import_dev.local.template import Resolver, bucket_name

CFN = {
    "Parameters": {
        "Env": {"Type": "String", "Default": "dev"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "a, b"},
    },
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {}},
        "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": {"Fn::Sub": "${AWS::StackName}-data"}}},
        "ProdOnly": {"Type": "AWS::S3::Bucket", "Condition": "IsProd"},
    },
}


def resolver(**parameters) -> Resolver:
    return Resolver(CFN, stack_name="s", region="eu-west-1", account_id="111122223333", parameters=parameters)


def test_given_any_stack_name_when_a_bucket_is_named_then_the_name_is_a_valid_s3_name():
    name = bucket_name("My_Stack." + "X" * 80 + "-DataBucket")

    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", name)
    assert name == bucket_name("My_Stack." + "X" * 80 + "-DataBucket")  # deterministic


def test_given_a_sub_when_resolved_then_pseudo_parameters_attributes_and_escapes_are_replaced():
    text = resolver().resolve({"Fn::Sub": "${AWS::Region}/${Fn.Arn}/${!Literal}/${Env}"})

    assert text == "eu-west-1/arn:aws:lambda:eu-west-1:111122223333:function:s-Fn/${Literal}/dev"


def test_given_an_explicit_name_when_resolved_then_it_wins_over_the_stack_name():
    assert resolver().physical_name("Named") == "s-data"


def test_given_a_false_condition_when_asked_then_the_resource_does_not_exist():
    assert (resolver().exists("ProdOnly"), resolver(Env="prod").exists("ProdOnly")) == (False, True)


def test_given_a_list_parameter_when_selected_then_items_are_split_and_trimmed():
    assert resolver().resolve({"Fn::Select": [1, {"Ref": "Zones"}]}) == "b"


def test_given_an_attribute_the_local_stack_does_not_know_when_resolved_then_it_fails_naming_it():
    with pytest.raises(LocalStackError, match=r"Fn\.Nope"):
        resolver().resolve({"Fn::GetAtt": ["Fn", "Nope"]})


def test_given_no_value_when_resolved_then_the_key_disappears():
    assert resolver().resolve({"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}}) == {"Keep": 1}
