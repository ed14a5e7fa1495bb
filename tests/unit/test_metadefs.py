"""The metadefs domain rules (metadefs/): visibility, Glance's policy decisions, tags, renames, the loader,
against an in-memory records port."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import pytest

from image_import.errors import BadRequest, Conflict, Forbidden, NotFound
from image_import.metadefs import access, namespaces, objects, properties, resource_types, tags
from image_import.metadefs.loader import load
from image_import.models import RequestContext
from image_import.models.metadef import MetadefNamespace
from image_import.policy.defaults import DEFAULT_RULES
from image_import.policy.rules import PolicyEngine
from tests.support.fakes import FakeMetadefRecords, fake_ports


class FakeSettings:
    limit_param_default = 25
    api_limit_max = 1000
    policy_rules: dict[str, str] = {}


SETTINGS = FakeSettings()


def context(project: str = "demo", roles=("member", "reader"), admin: bool = False) -> RequestContext:
    return RequestContext(user_id=project, project_id=project, roles=list(roles), is_admin=admin)


ADMIN = context("admin", ("admin", "member", "reader"), admin=True)
MEMBER = context()
OTHER = context("alt")


@pytest.fixture
def store():
    return FakeMetadefRecords()


class As:
    """The metadefs use cases as one caller makes them: ``As(store, who).show_tag("n", "t")`` is
    ``tags.show_tag(who, "n", "t", settings=SETTINGS, ports=<ports with this store>)``."""

    MODULES = (namespaces, objects, properties, tags, resource_types)

    def __init__(self, store: FakeMetadefRecords, who: RequestContext):
        self.who, self.ports = who, dataclasses.replace(fake_ports(), metadefs=store)

    def __getattr__(self, name: str):
        [module] = [m for m in self.MODULES if hasattr(m, name)]
        return functools.partial(getattr(module, name), self.who, settings=SETTINGS, ports=self.ports)


def api(store, who: RequestContext = ADMIN) -> As:
    return As(store, who)


def namespace(owner: str | None, visibility: str) -> MetadefNamespace:
    return MetadefNamespace(namespace="n", owner=owner, visibility=visibility, created_at="t", updated_at="t")


# ---------------------------------------------------------------- policy defaults
def test_every_glance_metadef_rule_has_its_default():
    names = {
        "metadef_default", "metadef_admin", "get_metadef_namespace", "get_metadef_namespaces",
        "modify_metadef_namespace", "add_metadef_namespace", "delete_metadef_namespace", "get_metadef_object",
        "get_metadef_objects", "modify_metadef_object", "add_metadef_object", "delete_metadef_object",
        "list_metadef_resource_types", "get_metadef_resource_type", "add_metadef_resource_type_association",
        "remove_metadef_resource_type_association", "get_metadef_property", "get_metadef_properties",
        "modify_metadef_property", "add_metadef_property", "remove_metadef_property", "get_metadef_tag",
        "get_metadef_tags", "modify_metadef_tag", "add_metadef_tag", "add_metadef_tags", "delete_metadef_tag",
        "delete_metadef_tags",
    }  # fmt: skip
    assert names <= DEFAULT_RULES.keys()
    assert DEFAULT_RULES["add_metadef_namespace"] == "rule:metadef_admin"
    assert DEFAULT_RULES["metadef_admin"] == "rule:context_is_admin"


@pytest.mark.parametrize(
    "who, namespace, allowed",
    [
        (MEMBER, namespace("demo", "private"), True),
        (MEMBER, namespace("admin", "public"), True),
        (MEMBER, namespace("admin", "private"), False),
        (context(roles=("member",)), namespace("demo", "private"), False),  # no reader role
        (ADMIN, namespace("someone", "private"), True),
    ],
)
def test_get_metadef_namespace_is_a_reader_of_the_owner_or_of_a_public_namespace(who, namespace, allowed):
    engine = PolicyEngine()
    assert engine.allows("get_metadef_namespace", access.target(who, namespace), who) is allowed


def test_an_operator_rule_for_metadef_admin_governs_every_change():
    engine = PolicyEngine({"metadef_admin": "role:member"})
    assert engine.allows("add_metadef_tag", access.target(MEMBER), MEMBER)
    assert not PolicyEngine().allows("add_metadef_tag", access.target(MEMBER), MEMBER)


# ---------------------------------------------------------------- visibility and refusals
@pytest.mark.parametrize(
    "namespace, who, seen",
    [
        (namespace("admin", "private"), OTHER, False),
        (namespace("admin", "public"), OTHER, True),
        (namespace(None, "private"), OTHER, True),  # Glance: no owner, visible
        (namespace("alt", "private"), OTHER, True),
        (namespace("demo", "private"), ADMIN, True),
    ],
)
def test_database_visibility_is_glances(namespace, who, seen):
    assert access.visible(who, namespace) is seen


def test_a_refused_change_to_a_visible_namespace_is_403_and_to_an_unreadable_one_404(store):
    api(store).create_namespace({"namespace": "pub", "visibility": "public"})
    with pytest.raises(Forbidden, match="add_metadef_tag"):
        api(store, MEMBER).create_tag("pub", "t")
    no_reader = context(roles=("member",))
    with pytest.raises(NotFound, match="The resource could not be found."):
        api(store, no_reader).create_tag("pub", "t")  # fails get_metadef_namespace too: hidden


def test_a_private_namespace_is_hidden_from_other_projects_in_every_call(store):
    api(store).create_namespace({"namespace": "priv", "objects": [{"name": "o"}]})
    calls = [
        lambda m: m.show_namespace("priv", {}),
        lambda m: m.list_objects("priv", {}),
        lambda m: m.show_object("priv", "o"),
        lambda m: m.list_properties("priv"),
        lambda m: m.list_tags("priv", {}),
        lambda m: m.list_associations("priv"),
        lambda m: m.delete_namespace("priv"),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call(api(store, OTHER))
    assert api(store, OTHER).list_namespaces({})["namespaces"] == []


def test_a_namespace_owned_by_the_members_project_is_readable_but_not_changeable(store):
    api(store).create_namespace({"namespace": "theirs", "owner": "demo"})
    assert api(store, MEMBER).show_namespace("theirs", {})["owner"] == "demo"
    with pytest.raises(Forbidden, match="modify_metadef_namespace"):
        api(store, MEMBER).update_namespace("theirs", {"namespace": "theirs"})


# ---------------------------------------------------------------- namespaces
def test_create_defaults_owner_visibility_and_protected(store):
    created = api(store, ADMIN).create_namespace({"namespace": "n"})
    assert (created["owner"], created["visibility"], created["protected"]) == ("admin", "private", False)
    assert created["self"] == "/v2/metadefs/namespaces/n" and created["schema"] == "/v2/schemas/metadefs/namespace"


def test_given_a_byte_budget_when_namespaces_are_listed_then_a_page_ends_before_it_and_next_goes_on(store):
    for name in ("a", "b", "c", "d"):
        api(store).create_namespace({"namespace": name, "description": name * 400})
    query = {"sort_key": ["namespace"], "sort_dir": ["asc"]}

    def size_of(document: dict) -> int:
        return len(json.dumps(document))

    budget = 2 * size_of(api(store).list_namespaces(query)["namespaces"][0]) + 10  # two fit, not three

    first = api(store).list_namespaces(query, size_of=size_of, budget=budget)
    rest = api(store).list_namespaces({**query, "marker": [first["next"]]}, size_of=size_of, budget=budget)

    assert ([n["namespace"] for n in first["namespaces"]], first["next"]) == (["a", "b"], "b")
    assert [n["namespace"] for n in rest["namespaces"]] == ["c", "d"] and "next" not in rest


def test_a_namespace_whose_contents_fail_is_not_kept(store):
    with pytest.raises(Conflict):
        api(store).create_namespace({"namespace": "n", "tags": [{"name": "a"}, {"name": "A"}]})
    assert store.namespace("n") is None and store.items == {}


def test_a_rename_whose_copy_fails_half_way_leaves_the_old_namespace_whole_and_no_new_one(store, monkeypatch):
    from image_import.errors import RequestEntityTooLarge

    api(store).create_namespace(
        {"namespace": "a", "tags": [{"name": "t1"}], "properties": {"p": {"type": "string", "title": "P"}}}
    )
    before = dict(store.items)
    put = store.put

    def put_under_a_longer_key(name, kind, key, record):
        if kind == "property":  # e.g. an item at DynamoDB's limit, its key now longer
            raise RequestEntityTooLarge("Metadata definition property p is too large to store")
        put(name, kind, key, record)

    monkeypatch.setattr(store, "put", put_under_a_longer_key)
    with pytest.raises(RequestEntityTooLarge):
        api(store).update_namespace("a", {"namespace": "a-longer-name"})
    assert store.items == before


def test_a_rename_moves_every_record_and_keeps_their_order(store):
    api(store).create_namespace(
        {
            "namespace": "a",
            "tags": [{"name": "t1"}, {"name": "t2"}],
            "properties": {"p": {"type": "string", "title": "P"}},
        }
    )
    api(store).create_association("a", {"name": "OS::Glance::Image"})
    api(store).update_namespace("a", {"namespace": "b"})
    assert store.namespace("a") is None and store.contents("a", "tag") == []
    shown = api(store).show_namespace("b", {})
    assert shown["tags"] == [{"name": "t2"}, {"name": "t1"}]
    assert list(shown["properties"]) == ["p"] and shown["resource_type_associations"][0]["name"] == "OS::Glance::Image"


def test_sort_and_limit_parameters_are_checked_as_glance_checks_them(store):
    with pytest.raises(BadRequest, match="Invalid sort direction: sideways"):
        api(store).list_namespaces({"sort_dir": ["sideways"]})
    with pytest.raises(BadRequest, match="limit param must be an integer"):
        api(store).list_namespaces({"limit": ["x"]})
    with pytest.raises(BadRequest, match="limit param must be positive"):
        api(store).list_namespaces({"limit": ["-1"]})
    with pytest.raises(BadRequest, match="limit param must be positive"):
        api(store).list_objects("any", {"limit": ["0"]})


def test_the_namespace_list_is_newest_first_by_default(store):
    for name in ("one", "two", "three"):
        api(store).create_namespace({"namespace": name})
    assert [ns["namespace"] for ns in api(store).list_namespaces({})["namespaces"]] == ["three", "two", "one"]


# ---------------------------------------------------------------- tags
def test_tag_names_are_unique_whatever_their_case_and_found_whatever_their_case(store):
    api(store).create_namespace({"namespace": "n"})
    api(store).create_tag("n", "Blue")
    with pytest.raises(Conflict, match="case insensitive"):
        api(store).create_tag("n", "blue")
    assert api(store).show_tag("n", "BLUE")["name"] == "Blue"


def test_bulk_tags_replace_unless_appending_and_a_refused_batch_changes_nothing(store):
    api(store).create_namespace({"namespace": "n", "tags": [{"name": "old"}]})
    api(store).create_tags("n", {"tags": [{"name": "a"}]}, append=True)
    assert {t["name"] for t in api(store).list_tags("n", {})["tags"]} == {"old", "a"}
    with pytest.raises(Conflict):
        api(store).create_tags("n", {"tags": [{"name": "b"}, {"name": "old"}]}, append=True)
    with pytest.raises(Conflict):
        api(store).create_tags("n", {"tags": [{"name": "x"}, {"name": "X"}]}, append=False)
    assert {t["name"] for t in api(store).list_tags("n", {})["tags"]} == {"old", "a"}
    api(store).create_tags("n", {"tags": [{"name": "new"}]}, append=False)
    assert api(store).list_tags("n", {})["tags"] == [{"name": "new"}]


def test_a_tag_longer_than_the_schema_allows_is_a_bad_request(store):
    api(store).create_namespace({"namespace": "n"})
    with pytest.raises(BadRequest):
        api(store).create_tag("n", "x" * 81)


def test_renaming_a_tag_onto_another_is_a_conflict(store):
    api(store).create_namespace({"namespace": "n", "tags": [{"name": "a"}, {"name": "b"}]})
    with pytest.raises(Conflict):
        api(store).update_tag("n", "a", {"name": "B"})
    assert api(store).update_tag("n", "a", {"name": "A"})["name"] == "A"  # its own name, another case


# ---------------------------------------------------------------- objects, properties, resource types
def test_an_object_is_shown_with_glances_defaults(store):
    api(store).create_namespace({"namespace": "n"})
    api(store).create_object("n", {"name": "o"})
    shown = api(store).show_object("n", "o")
    assert shown["required"] == [] and shown["properties"] == {} and "description" not in shown


def test_a_property_show_through_a_resource_type_strips_its_prefix(store):
    api(store).create_namespace(
        {"namespace": "n", "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}]}
    )
    api(store).create_property("n", {"name": "cpu", "type": "string", "title": "CPU"})
    assert api(store).show_property("n", "hw_cpu", {"resource_type": ["OS::Glance::Image"]})["name"] == "cpu"
    with pytest.raises(NotFound, match="resource-type with name=OS::Nova::Server, was not found"):
        api(store).show_property("n", "hw_cpu", {"resource_type": ["OS::Nova::Server"]})  # no such type
    api(store).create_namespace({"namespace": "m", "resource_type_associations": [{"name": "OS::Nova::Server"}]})
    with pytest.raises(NotFound, match="resource-type association of resource-type=OS::Nova::Server to namespace=n"):
        api(store).show_property("n", "hw_cpu", {"resource_type": ["OS::Nova::Server"]})  # not associated with n


def test_resource_types_outlive_their_namespaces(store):
    api(store).create_namespace({"namespace": "n", "resource_type_associations": [{"name": "OS::Cinder::Volume"}]})
    api(store).delete_namespace("n")
    assert [rt["name"] for rt in api(store, MEMBER).list_resource_types()["resource_types"]] == ["OS::Cinder::Volume"]


def test_read_only_attributes_are_refused_before_anything_else(store):
    with pytest.raises(Forbidden, match="Attribute 'self' is read-only."):
        api(store, MEMBER).create_namespace({"namespace": "n", "self": "/x"})


# ---------------------------------------------------------------- the loader
def write(directory, name: str, document: Any) -> None:
    (directory / name).write_text(document if isinstance(document, str) else json.dumps(document))


def test_the_loader_imports_glance_namespace_files_and_skips_what_exists(store, tmp_path):
    write(tmp_path, "a.json", {
        "namespace": "OS::A", "visibility": "public", "protected": True,
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "a_"}],
        "properties": {"p": {"title": "P", "type": "string"}},
        "objects": [{"name": "o", "properties": {"q": {"title": "Q", "type": "integer"}}}],
        "tags": [{"name": "t"}],
    })  # fmt: skip
    write(tmp_path, "broken.json", "{not json")
    write(tmp_path, "notes.txt", "ignored")
    report = load(tmp_path, store)
    assert report.loaded == ["OS::A"] and len(report.failed) == 1 and report.failed[0].startswith("broken.json")
    shown = api(store, MEMBER).show_namespace("OS::A", {})
    assert shown["owner"] == "admin" and shown["protected"] is True  # glance-manage's default owner
    assert shown["properties"] == {"p": {"title": "P", "type": "string"}} and shown["tags"] == [{"name": "t"}]
    assert store.resource_types()[0]["protected"] is True

    write(tmp_path, "a.json", {"namespace": "OS::A", "display_name": "again"})
    assert load(tmp_path / "a.json", store).skipped == ["OS::A"]
    assert "display_name" not in api(store).show_namespace("OS::A", {})
    assert load(tmp_path / "a.json", store, overwrite=True).loaded == ["OS::A"]
    replaced = api(store).show_namespace("OS::A", {})
    assert replaced["display_name"] == "again" and "tags" not in replaced


def test_the_loader_leaves_nothing_of_a_namespace_it_could_not_load(store, tmp_path):
    write(tmp_path, "bad.json", {"namespace": "OS::Bad", "tags": [{"name": "t"}], "objects": [{"no": "name"}]})
    report = load(tmp_path, store)
    assert report.loaded == [] and report.failed and store.items == {}


# ---------------------------------------------------------------- no table
def test_without_a_metadefs_table_every_call_is_404_before_its_body_is_read():
    no_table = As(FakeMetadefRecords(), ADMIN)
    no_table.ports = dataclasses.replace(no_table.ports, metadefs=None)
    with pytest.raises(NotFound, match="The resource could not be found."):
        no_table.create_namespace({"namespace": 5})
    with pytest.raises(NotFound, match="The resource could not be found."):
        no_table.list_resource_types()


def test_a_namespace_body_the_schema_refuses_is_a_400_naming_the_namespace_schema(store):
    with pytest.raises(BadRequest) as refused:
        api(store).create_namespace({"namespace": 5})
    assert refused.value.explanation == "Provided object does not match schema 'namespace': 5 is not of type 'string'"


# ---------------------------------------------------------------- objects, properties, tags: create and rename
def test_a_rename_onto_a_taken_name_is_glances_409_for_its_kind_and_a_free_one_moves_the_record(store):
    metadefs = api(store)
    metadefs.create_namespace({"namespace": "n"})
    for kind in ("a", "b"):
        metadefs.create_object("n", {"name": f"o{kind}"})
        metadefs.create_property("n", {"name": f"p{kind}", "type": "string", "title": kind})
        metadefs.create_tag("n", f"t{kind}")
    duplicate = (
        "Invalid update. It would result in a duplicate metadata definition {} with the same name={} in namespace=n."
    )
    with pytest.raises(Conflict) as refused:
        metadefs.update_object("n", "oa", {"name": "ob"})
    assert refused.value.explanation == duplicate.format("object", "ob")
    with pytest.raises(Conflict) as refused:
        metadefs.update_property("n", "pa", {"name": "pb", "type": "string", "title": "a"})
    assert refused.value.explanation == duplicate.format("property", "pb")
    with pytest.raises(Conflict) as refused:
        metadefs.update_tag("n", "ta", {"name": "TB"})
    assert refused.value.explanation == (
        "A metadata tag with name=TB already exists in namespace=n. (Please note that metadata tag names are case "
        "insensitive)."
    )
    with pytest.raises(Conflict) as refused:
        metadefs.create_object("n", {"name": "oa"})
    assert refused.value.explanation == "A metadata definition object with name=oa already exists in namespace=n."
    with pytest.raises(Conflict) as refused:
        metadefs.create_property("n", {"name": "pa", "type": "string", "title": "a"})
    assert refused.value.explanation == "A metadata definition property with name=pa already exists in namespace=n."

    metadefs.update_object("n", "oa", {"name": "oc", "description": "moved"})
    metadefs.update_property("n", "pa", {"name": "pc", "type": "string", "title": "moved"})
    metadefs.update_tag("n", "ta", {"name": "TA"})  # the same tag whatever the case: renamed in place
    assert sorted(o["name"] for o in metadefs.list_objects("n", {})["objects"]) == ["ob", "oc"]
    assert metadefs.show_object("n", "oc")["description"] == "moved"
    assert sorted(metadefs.list_properties("n")["properties"]) == ["pb", "pc"]
    assert sorted(t["name"] for t in metadefs.list_tags("n", {})["tags"]) == ["TA", "tb"]
    with pytest.raises(NotFound):
        metadefs.show_object("n", "oa")
