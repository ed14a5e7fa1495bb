"""The metadata definitions API (/v2/metadefs) through the emulated API Gateway, records in moto's DynamoDB:
the statuses, bodies and messages Glance 33 answers (checked against a real Glance 33)."""

from __future__ import annotations

import pytest

NS = "/v2/metadefs/namespaces"
OTHER = "other-token"


@pytest.fixture
def other(stack):
    from tests.support.api import Api

    return Api(stack, OTHER)


def assert_glance_error(reply, status: int, message: str) -> None:
    assert reply.status == status, reply.text
    assert reply.json["message"] == message, reply.json


def create(api, name: str = "ns1", **fields) -> dict:
    reply = api.call("POST", NS, {"namespace": name, **fields})
    assert reply.status == 201, reply.text
    return reply.json


# ---------------------------------------------------------------- namespaces
def test_an_admin_creates_a_namespace_with_its_contents_and_shows_it_whole(admin):
    body = {
        "namespace": "OS::Compute::Demo",
        "display_name": "Demo",
        "visibility": "public",
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
        "properties": {"cpu": {"type": "string", "title": "CPU", "default": "a"}},
        "objects": [{"name": "o1", "properties": {"q": {"type": "integer", "title": "Q", "minimum": 1}}}],
        "tags": [{"name": "t1"}],
    }
    reply = admin.call("POST", NS, body)
    assert reply.status == 201, reply.text
    assert reply.headers["location"] == f"{NS}/OS::Compute::Demo"
    created = reply.json
    assert list(created) == [
        "namespace", "display_name", "visibility", "protected", "owner", "created_at", "updated_at",
        "resource_type_associations", "properties", "objects", "tags", "self", "schema",
    ]  # fmt: skip
    assert created["owner"] == "admin" and created["protected"] is False
    assert created["resource_type_associations"] == [{"name": "OS::Glance::Image", "prefix": "hw_"}]

    shown = admin.call("GET", f"{NS}/OS::Compute::Demo").json
    assert shown["properties"] == {"cpu": {"type": "string", "title": "CPU", "default": "a"}}
    [obj] = shown["objects"]
    assert obj["required"] == [] and obj["self"] == f"{NS}/OS::Compute::Demo/objects/o1"
    assert shown["tags"] == [{"name": "t1"}]
    assert set(shown["resource_type_associations"][0]) == {"name", "prefix", "created_at", "updated_at"}

    prefixed = admin.call("GET", f"{NS}/OS::Compute::Demo", query={"resource_type": "OS::Glance::Image"}).json
    assert list(prefixed["properties"]) == ["hw_cpu"]
    assert list(prefixed["objects"][0]["properties"]) == ["hw_q"]


def test_a_member_may_read_public_namespaces_but_not_create_any(admin, member):
    create(admin, "pub", visibility="public")
    reply = member.call("POST", NS, {"namespace": "mine"})
    assert_glance_error(reply, 403, "You are not authorized to complete add_metadef_namespace action.")
    assert member.call("GET", f"{NS}/pub").status == 200
    assert [ns["namespace"] for ns in member.call("GET", NS).json["namespaces"]] == ["pub"]


def test_a_private_namespace_is_invisible_to_other_projects(admin, member):
    create(admin, "priv")
    assert_glance_error(member.call("GET", f"{NS}/priv"), 404, "The resource could not be found.")
    assert_glance_error(member.call("DELETE", f"{NS}/priv"), 404, "Namespace priv not found")
    assert_glance_error(member.call("GET", f"{NS}/priv/objects"), 404, "Namespace priv not found")
    assert_glance_error(member.call("GET", f"{NS}/priv/tags"), 404, "Namespace priv not found")
    assert member.call("GET", NS).json["namespaces"] == []
    assert admin.call("GET", f"{NS}/priv").status == 200


def test_a_missing_namespace_is_named_as_glance_names_it(admin):
    assert_glance_error(admin.call("GET", f"{NS}/nope"), 404, "Metadata definition namespace=nope was not found.")
    assert_glance_error(
        admin.call("GET", f"{NS}/nope/objects"), 404, "Metadata definition namespace=nope was not found."
    )
    assert_glance_error(admin.call("GET", f"{NS}/nope/properties"), 404, "Namespace nope not found")


def test_a_duplicate_namespace_is_a_conflict(admin):
    create(admin, "dup")
    reply = admin.call("POST", NS, {"namespace": "dup"})
    assert_glance_error(reply, 409, "The metadata definition namespace=dup already exists.")


def test_a_protected_namespace_and_its_contents_cannot_be_deleted_until_unprotected(admin):
    create(admin, "prot", protected=True, tags=[{"name": "t"}], objects=[{"name": "o"}])
    message = "Metadata definition namespace prot is protected and cannot be deleted."
    assert_glance_error(admin.call("DELETE", f"{NS}/prot"), 403, message)
    assert_glance_error(admin.call("DELETE", f"{NS}/prot/objects"), 403, message)
    assert_glance_error(
        admin.call("DELETE", f"{NS}/prot/tags/t"), 403, "Metadata definition tag t is protected and cannot be deleted."
    )
    assert_glance_error(
        admin.call("DELETE", f"{NS}/prot/objects/o"),
        403,
        "Metadata definition object o is protected and cannot be deleted.",
    )
    updated = admin.call("PUT", f"{NS}/prot", {"namespace": "prot", "protected": False, "visibility": "private"})
    assert updated.status == 200 and updated.json["protected"] is False
    assert admin.call("DELETE", f"{NS}/prot").status == 204
    assert admin.call("GET", f"{NS}/prot").status == 404
    assert admin.call("GET", f"{NS}/prot/objects/o").status == 404


def test_an_update_replaces_the_namespace_and_a_rename_moves_its_contents(admin):
    create(admin, "old", display_name="Old", tags=[{"name": "t"}], objects=[{"name": "o"}])
    reply = admin.call("PUT", f"{NS}/old", {"namespace": "new", "description": "d"})
    assert reply.status == 200, reply.text
    assert reply.json["namespace"] == "new" and "display_name" not in reply.json  # as Glance: not given, gone
    assert reply.json["visibility"] == "private"
    assert admin.call("GET", f"{NS}/old").status == 404
    moved = admin.call("GET", f"{NS}/new").json
    assert moved["tags"] == [{"name": "t"}] and moved["objects"][0]["name"] == "o"
    create(admin, "taken")
    clash = admin.call("PUT", f"{NS}/new", {"namespace": "taken"})
    assert clash.status == 409


def test_read_only_attributes_and_schema_violations_are_refused(admin):
    assert_glance_error(
        admin.call("POST", NS, {"namespace": "x", "created_at": "now"}), 403, "Attribute 'created_at' is read-only."
    )
    assert admin.call("POST", NS, {"namespace": "x", "visibility": "shared"}).status == 400
    assert admin.call("POST", NS, {"display_name": "no name"}).status == 400
    assert_glance_error(admin.call("POST", NS), 400, "Body expected in request.")


def test_namespaces_list_pages_with_limit_marker_and_filters(admin):
    for name in ("a", "b", "c"):
        create(admin, name, visibility="public" if name != "b" else "private")
    page = admin.call("GET", NS, query={"limit": "2", "sort_key": "namespace", "sort_dir": "asc"}).json
    assert [ns["namespace"] for ns in page["namespaces"]] == ["a", "b"]
    assert page["first"] == f"{NS}?limit=2&sort_key=namespace&sort_dir=asc"
    assert page["next"] == f"{NS}?limit=2&sort_key=namespace&sort_dir=asc&marker=b"
    rest = admin.call("GET", NS, query={"limit": "2", "sort_key": "namespace", "sort_dir": "asc", "marker": "b"})
    assert [ns["namespace"] for ns in rest.json["namespaces"]] == ["c"] and "next" not in rest.json
    public = admin.call("GET", NS, query={"visibility": "public"}).json["namespaces"]
    assert {ns["namespace"] for ns in public} == {"a", "c"}
    assert_glance_error(admin.call("GET", NS, query={"visibility": "shared"}), 400, "Invalid visibility value: shared")
    assert_glance_error(admin.call("GET", NS, query={"sort_dir": "up"}), 400, "Invalid sort direction: up")


def test_namespaces_list_filters_by_resource_types(admin):
    create(admin, "img", resource_type_associations=[{"name": "OS::Glance::Image"}])
    create(admin, "vol", resource_type_associations=[{"name": "OS::Cinder::Volume"}])
    create(admin, "none")
    listed = admin.call("GET", NS, query={"resource_types": "OS::Glance::Image,OS::Nova::Server"}).json
    assert [ns["namespace"] for ns in listed["namespaces"]] == ["img"]
    assert listed["namespaces"][0]["resource_type_associations"][0]["name"] == "OS::Glance::Image"


# ---------------------------------------------------------------- objects and properties
def test_objects_are_created_listed_updated_renamed_and_deleted(admin, member):
    create(admin, "objs", visibility="public")
    reply = admin.call(
        "POST", f"{NS}/objs/objects", {"name": "o1", "properties": {"q": {"type": "integer", "title": "Q"}}}
    )
    assert reply.status == 201, reply.text
    assert list(reply.json) == ["name", "properties", "created_at", "updated_at", "self", "schema"]
    dup = admin.call("POST", f"{NS}/objs/objects", {"name": "o1"})
    assert_glance_error(dup, 409, "A metadata definition object with name=o1 already exists in namespace=objs.")
    listed = member.call("GET", f"{NS}/objs/objects").json
    assert [o["name"] for o in listed["objects"]] == ["o1"] and listed["schema"] == "v2/schemas/metadefs/objects"
    denied = member.call("POST", f"{NS}/objs/objects", {"name": "o2"})
    assert_glance_error(denied, 403, "You are not authorized to complete add_metadef_object action.")
    renamed = admin.call("PUT", f"{NS}/objs/objects/o1", {"name": "o2", "description": "d"})
    assert renamed.status == 200 and renamed.json["self"] == f"{NS}/objs/objects/o2"
    assert_glance_error(
        admin.call("GET", f"{NS}/objs/objects/o1"),
        404,
        "Could not find metadata object o1",
    )
    assert member.call("GET", f"{NS}/objs/objects/o2").json["properties"] == {}
    assert admin.call("DELETE", f"{NS}/objs/objects/o2").status == 204
    assert admin.call("GET", f"{NS}/objs/objects").json["objects"] == []


def test_an_unknown_attribute_of_a_property_definition_is_a_bad_request(admin):
    create(admin, "bad")
    junk = {"p": {"type": "string", "title": "P", "junk": 1}}
    reply = admin.call("POST", f"{NS}/bad/objects", {"name": "o", "properties": junk})
    assert reply.status == 400  # as Glance: each object property is checked against the property schema
    assert reply.json["message"].startswith("Provided object does not match schema 'property': Additional properties")
    # Glance's namespace schema lets it through and its WSME model fails (500); it is the client's mistake
    reply = admin.call("POST", NS, {"namespace": "bad2", "properties": junk})
    assert_glance_error(reply, 400, "Unknown attribute for argument properties: junk")
    assert admin.call("GET", f"{NS}/bad2").status == 404


def test_properties_are_created_shown_with_a_prefix_updated_and_deleted(admin):
    create(admin, "props", resource_type_associations=[{"name": "OS::Glance::Image", "prefix": "hw_"}])
    reply = admin.call("POST", f"{NS}/props/properties", {"name": "cpu", "type": "string", "title": "CPU"})
    assert reply.status == 201 and reply.json == {"name": "cpu", "type": "string", "title": "CPU"}
    assert admin.call("POST", f"{NS}/props/properties", {"name": "cpu", "type": "string", "title": "X"}).status == 409
    assert admin.call("POST", f"{NS}/props/properties", {"name": "x", "type": "string"}).status == 400  # no title
    listed = admin.call("GET", f"{NS}/props/properties").json
    assert listed == {"properties": {"cpu": {"name": "cpu", "type": "string", "title": "CPU"}}}
    prefixed = admin.call("GET", f"{NS}/props/properties/hw_cpu", query={"resource_type": "OS::Glance::Image"})
    assert prefixed.status == 200 and prefixed.json["name"] == "cpu"
    unprefixed = admin.call("GET", f"{NS}/props/properties/cpu", query={"resource_type": "OS::Glance::Image"})
    assert_glance_error(
        unprefixed, 404, "Property cpu does not start with the expected resource type association prefix of 'hw_'."
    )
    updated = admin.call("PUT", f"{NS}/props/properties/cpu", {"name": "ram", "type": "integer", "title": "RAM"})
    assert updated.status == 200 and updated.json["name"] == "ram"
    assert admin.call("GET", f"{NS}/props/properties/cpu").status == 404
    assert admin.call("DELETE", f"{NS}/props/properties/ram").status == 204
    assert admin.call("DELETE", f"{NS}/props/properties").status == 204


# ---------------------------------------------------------------- tags
def test_tags_one_at_a_time_in_bulk_appended_renamed_and_all_deleted(admin, member):
    create(admin, "tags", visibility="public")
    one = admin.call("POST", f"{NS}/tags/tags/T1")
    assert one.status == 201 and set(one.json) == {"name", "created_at", "updated_at"}
    assert_glance_error(
        admin.call("POST", f"{NS}/tags/tags/t1"),
        409,
        "A metadata tag with name=t1 already exists in namespace=tags. (Please note that metadata tag names are "
        "case insensitive).",
    )
    bulk = admin.call("POST", f"{NS}/tags/tags", {"tags": [{"name": "a"}, {"name": "b"}]})
    assert bulk.status == 201 and bulk.json == {"tags": [{"name": "a"}, {"name": "b"}]}
    assert {t["name"] for t in member.call("GET", f"{NS}/tags/tags").json["tags"]} == {"a", "b"}  # replaced
    appended = admin.call("POST", f"{NS}/tags/tags", {"tags": [{"name": "c"}]}, {"X-Openstack-Append": "True"})
    assert appended.status == 201
    assert [t["name"] for t in admin.call("GET", f"{NS}/tags/tags").json["tags"]][0] == "c"  # newest first
    again = admin.call("POST", f"{NS}/tags/tags", {"tags": [{"name": "c"}]}, {"X-Openstack-Append": "true"})
    assert again.status == 409
    twice = admin.call("POST", f"{NS}/tags/tags", {"tags": [{"name": "d"}, {"name": "d"}]})
    assert twice.status == 409
    assert len(admin.call("GET", f"{NS}/tags/tags").json["tags"]) == 3  # nothing changed by the refused call
    renamed = admin.call("PUT", f"{NS}/tags/tags/a", {"name": "z"})
    assert renamed.status == 200 and renamed.json["name"] == "z"
    assert member.call("GET", f"{NS}/tags/tags/z").json["name"] == "z"
    denied = member.call("DELETE", f"{NS}/tags/tags/z")
    assert_glance_error(denied, 403, "You are not authorized to complete delete_metadef_tag action.")
    assert admin.call("DELETE", f"{NS}/tags/tags/z").status == 204
    assert admin.call("DELETE", f"{NS}/tags/tags").status == 204
    assert admin.call("GET", f"{NS}/tags/tags").json == {"tags": []}


def test_tags_list_pages_with_limit_and_marker(admin):
    create(admin, "paged", tags=[{"name": n} for n in ("a", "b", "c")])
    tags = admin.call("GET", f"{NS}/paged/tags", query={"sort_key": "name", "sort_dir": "asc", "limit": "2"}).json
    assert tags == {"tags": [{"name": "a"}, {"name": "b"}]}
    rest = admin.call("GET", f"{NS}/paged/tags", query={"sort_key": "name", "sort_dir": "asc", "marker": "b"}).json
    assert rest == {"tags": [{"name": "c"}]}


# ---------------------------------------------------------------- resource types
def test_resource_type_associations_and_the_resource_types_list(admin, member):
    create(admin, "rt", visibility="public")
    reply = admin.call(
        "POST", f"{NS}/rt/resource_types", {"name": "OS::Nova::Server", "prefix": "p_", "properties_target": "image"}
    )
    assert reply.status == 201 and reply.json["properties_target"] == "image"
    again = admin.call("POST", f"{NS}/rt/resource_types", {"name": "OS::Nova::Server"})
    assert_glance_error(
        again,
        409,
        "The metadata definition resource-type association of resource-type=OS::Nova::Server to namespace=rt "
        "already exists.",
    )
    associations = member.call("GET", f"{NS}/rt/resource_types").json["resource_type_associations"]
    assert [a["name"] for a in associations] == ["OS::Nova::Server"]
    assert [t["name"] for t in member.call("GET", "/v2/metadefs/resource_types").json["resource_types"]] == [
        "OS::Nova::Server"
    ]
    assert admin.call("DELETE", f"{NS}/rt/resource_types/OS::Nova::Server").status == 204
    assert_glance_error(
        admin.call("DELETE", f"{NS}/rt/resource_types/OS::Nova::Server"),
        404,
        "Failed to find resource type OS::Nova::Server to delete",
    )
    # the resource type stays known after its last association goes, as in Glance
    assert member.call("GET", "/v2/metadefs/resource_types").json["resource_types"][0]["name"] == "OS::Nova::Server"


# ---------------------------------------------------------------- schemas and policy overrides
@pytest.mark.parametrize(
    "name, title",
    [
        ("namespace", "namespace"), ("namespaces", "namespaces"), ("object", "object"), ("objects", "objects"),
        ("property", "property"), ("properties", "properties"), ("tag", "tag"), ("tags", "tags"),
        ("resource_type", "resource_type_association"), ("resource_types", "resource_type_associations"),
    ],
)  # fmt: skip
def test_every_metadef_schema_is_served(member, name, title):
    reply = member.call("GET", f"/v2/schemas/metadefs/{name}")
    assert reply.status == 200 and reply.json["name"] == title


def test_an_unknown_metadef_schema_is_not_found(member):
    assert member.call("GET", "/v2/schemas/metadefs/image").status == 404


@pytest.fixture
def members_make_namespaces(config_dir):
    (config_dir / "policy.yaml").write_text('"add_metadef_namespace": "role:member"\n')
    return config_dir


def test_policy_yaml_overrides_a_metadef_rule(members_make_namespaces, stack):
    from tests.support.api import Api

    reply = Api(stack, "member-token").call("POST", NS, {"namespace": "by-member"})
    assert reply.status == 201, reply.text
    assert reply.json["owner"] == "demo"
