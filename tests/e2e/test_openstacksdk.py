"""End to end with openstacksdk (conn.image.*), a real client nobody here wrote, against the local stack.

There is no Keystone catalog: keystoneauth's admin_token plugin (token_endpoint) sends the token and uses
its endpoint verbatim for every service, so the endpoint is the versioned one, <url>/v2, as in a catalog.
"""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest

openstack = pytest.importorskip("openstack", reason="openstacksdk is not installed: pip install -e '.[dev]'")
from openstack import exceptions  # noqa: E402

from tests.support import disk_images  # noqa: E402
from tests.support.e2e import allow_web_downloads_from_loopback, serving  # noqa: E402

pytestmark = pytest.mark.e2e

REDIRECT_ABOVE = 50_000  # max_api_download_size here: larger images are served by a 303 to the store
WEB_DATA = os.urandom(REDIRECT_ABOVE + 12_345)
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def web_root(tmp_path):
    """An HTTP server on 127.0.0.1 serving disk.img, which the web-download filter is told to allow."""
    with serving(tmp_path / "www" / "disk.img", WEB_DATA) as port:
        yield port


@pytest.fixture
def service_config(config_dir, web_root):
    return allow_web_downloads_from_loopback(config_dir, web_root, max_api_download_size=REDIRECT_ABOVE)  # larger: 303


def connect(service, token: str = "member-token"):
    return openstack.connect(
        auth_type="admin_token",
        auth={"endpoint": service.url + "/v2", "token": token},
        load_yaml_config=False,  # neither the developer's clouds.yaml nor OS_* variables
        load_envvars=False,
    )


@pytest.fixture
def conn(service):
    connection = connect(service)
    yield connection
    connection.close()


@pytest.fixture
def admin(service):
    connection = connect(service, "admin-token")
    yield connection
    connection.close()


def active(conn, image):
    return conn.image.wait_for_status(image, "active", failures=["killed", "deleted"], interval=0.2, wait=60)


def assert_holds(image, data: bytes) -> None:
    assert image.status == "active"
    assert image.size == len(data)
    assert image.checksum == hashlib.md5(data).hexdigest()
    assert (image.hash_algo, image.hash_value) == ("sha512", hashlib.sha512(data).hexdigest())


# ---------------------------------------------------------------- creating images
def test_create_image_with_data_uploads_it_and_the_sdk_validates_the_checksum(conn, tmp_path):
    data = os.urandom(20_000)
    image = conn.image.create_image(
        "sdk-upload", data=data, disk_format="raw", container_format="bare", validate_checksum=True, os_distro="cirros"
    )  # PUT /file: synchronous, so the SDK compares the served checksum with its own
    assert_holds(active(conn, image), data)

    shown = conn.image.get_image(image.id)
    assert (shown.name, shown.disk_format, shown.container_format) == ("sdk-upload", "raw", "bare")
    assert shown.os_distro == "cirros"
    assert shown.properties["owner_specified.openstack.md5"] == hashlib.md5(data).hexdigest()

    assert conn.image.download_image(image).content == data  # the SDK checks os_hash_value as it reads
    streamed = conn.image.download_image(image, stream=True)
    assert b"".join(streamed.iter_content(4096)) == data
    target = tmp_path / "copy.img"
    conn.image.download_image(image, output=str(target))
    assert target.read_bytes() == data


def test_create_image_with_use_import_stages_and_imports_by_glance_direct(conn):
    # a real qcow2 (the import inspects the data), over REDIRECT_ABOVE: the download follows the 303 to the store
    data = disk_images.qcow2() + os.urandom(3 * 1024 * 1024 + 7)
    image = conn.image.create_image(
        "sdk-import", data=data, disk_format="qcow2", container_format="bare", use_import=True, allow_duplicates=True
    )
    assert_holds(active(conn, image), data)
    assert conn.image.get_image(image.id).properties["property1"] == "value1"  # the inject_image_metadata plugin

    [task] = conn.image.image_tasks(image)
    assert task.status == "success"
    assert task.input["import_req"]["method"]["name"] == "glance-direct"
    assert conn.image.download_image(image).content == data


def test_stage_image_then_import_image(conn):
    data = os.urandom(100_000)
    image = conn.image.create_image("sdk-staged", disk_format="raw", container_format="bare", allow_duplicates=True)
    assert image.status == "queued"  # no data: only POST /v2/images

    staged = conn.image.stage_image(image, data=data)
    assert staged.status == "uploading"
    assert staged.size == len(data)

    response = conn.image.import_image(image, method="glance-direct")
    assert response.status_code == 202
    assert_holds(active(conn, image), data)

    again = conn.image.import_image(image, method="glance-direct")  # the SDK hands back the raw response
    assert again.status_code == 409
    with pytest.raises(exceptions.ConflictException):
        exceptions.raise_from_response(again)
    with pytest.raises(exceptions.SDKException, match="queued state"):
        conn.image.stage_image(image, data=b"more")  # the SDK refuses by itself: the image is active


def test_create_image_by_web_download_then_download_via_the_stores_redirect(conn, web_root):
    # create_image ignores import_image's answer: a refused import would leave a queued image behind
    image = conn.image.create_image(
        "sdk-web",
        disk_format="raw",
        container_format="bare",
        use_import=True,
        import_method="web-download",
        uri=f"http://127.0.0.1:{web_root}/disk.img",
        allow_duplicates=True,
    )
    assert_holds(active(conn, image), WEB_DATA)
    assert conn.image.download_image(image).content == WEB_DATA  # > max_api_download_size: 303 to S3

    refused = conn.image.create_image("sdk-metadata-service", disk_format="raw", container_format="bare")
    response = conn.image.import_image(refused, method="web-download", uri="http://169.254.169.254/latest/meta-data/")
    assert response.status_code == 400
    with pytest.raises(exceptions.BadRequestException, match="does not pass filtering"):
        exceptions.raise_from_response(response)
    assert conn.image.get_image(refused.id).status == "queued"


# ---------------------------------------------------------------- reading and changing images
def test_images_lists_with_filters_pages_and_finds_by_name(conn):
    small = conn.image.create_image("sdk-a", data=b"a" * 10, disk_format="raw", container_format="bare", tags=["x"])
    large = conn.image.create_image("sdk-b", data=disk_images.qcow2(), disk_format="qcow2", container_format="bare")
    queued = conn.image.create_image("sdk-c", disk_format="iso", container_format="bare", tags=["x", "y"])
    # meta bypasses the SDK's conversion of extra arguments to strings (os_hidden must be a JSON boolean)
    hidden = conn.image.create_image("sdk-hidden", disk_format="raw", container_format="bare", meta={"os_hidden": True})
    for image in (small, large):
        active(conn, image)

    def names(**query):
        return [image.name for image in conn.image.images(**query)]

    assert sorted(names()) == ["sdk-a", "sdk-b", "sdk-c"]  # hidden images are left out by default
    assert names(is_hidden=True) == ["sdk-hidden"]
    assert names(name="sdk-b") == ["sdk-b"]
    assert sorted(names(tag="x")) == ["sdk-a", "sdk-c"]
    assert names(status="queued") == ["sdk-c"]
    assert names(disk_format="qcow2") == ["sdk-b"]
    assert names(size_min=100) == ["sdk-b"]
    assert names(protected="false", sort_key="name", sort_dir="asc") == ["sdk-a", "sdk-b", "sdk-c"]
    assert names(sort="name:desc") == ["sdk-c", "sdk-b", "sdk-a"]
    assert names(visibility="shared", owner="demo", sort_key="name", sort_dir="asc") == ["sdk-a", "sdk-b", "sdk-c"]
    assert sorted(names(limit=1)) == ["sdk-a", "sdk-b", "sdk-c"]  # one per page: the SDK follows `next`

    assert conn.image.find_image("sdk-b").id == large.id
    assert conn.image.find_image(queued.id).name == "sdk-c"
    assert conn.image.find_image("sdk-hidden").id == hidden.id  # find also looks among hidden images
    assert conn.image.find_image("no-such-image") is None
    with pytest.raises(exceptions.NotFoundException):
        conn.image.find_image("no-such-image", ignore_missing=False)


def test_update_image_sends_a_json_patch(conn):
    data = b"patched" * 100
    image = active(conn, conn.image.create_image("sdk-patch", data=data, disk_format="raw", container_format="bare"))

    updated = conn.image.update_image(image.id, name="renamed", min_ram=512, os_distro="cirros", color="red")
    assert (updated.name, updated.min_ram, updated.os_distro) == ("renamed", 512, "cirros")
    assert updated.properties["color"] == "red"

    assert conn.image.update_image_properties(conn.image.get_image(image.id), flavor="small", architecture="x86_64")
    shown = conn.image.get_image(image.id)
    assert (shown.properties["color"], shown.properties["flavor"], shown.architecture) == ("red", "small", "x86_64")
    assert_holds(shown, data)  # the data is untouched

    assert conn.image.update_image(image.id, tags=["one", "two"], visibility="private").tags == ["one", "two"]
    with pytest.raises(exceptions.ForbiddenException, match="reserved"):
        conn.image.update_image(image.id, os_glance_mine="no")  # the os_glance namespace is Glance's
    with pytest.raises(exceptions.ForbiddenException, match="read-only"):
        conn.image.update_image(image.id, checksum="0" * 32)
    with pytest.raises(exceptions.ForbiddenException, match="can be only replaced for a queued image"):
        conn.image.update_image(image.id, disk_format="qcow2")
    with pytest.raises(exceptions.BadRequestException):
        conn.image.update_image(image.id, min_ram="lots")


# ---------------------------------------------------------------- discovery, tasks
def test_import_info_and_the_tasks_api(conn, admin):
    assert conn.image.get_import_info().import_methods["value"] == ["glance-direct", "web-download"]
    with pytest.raises(exceptions.NotFoundException):
        list(conn.image.stores())  # a single-store Glance answers 404 too

    image = active(conn, conn.image.create_image("sdk-task", data=b"t" * 64, disk_format="raw", use_import=True))
    with pytest.raises(exceptions.ForbiddenException):
        list(conn.image.tasks())  # the shipped policy: the Tasks API is admin-only

    [image_task] = conn.image.image_tasks(image)
    assert image_task.id in {t.id for t in admin.image.tasks(status="success")}
    task = admin.image.get_task(image_task.id)
    assert (task.type, task.status, task.owner_id) == ("api_image_import", "success", "demo")
    assert task.result["image_id"] == image.id
    assert admin.image.wait_for_task(task, interval=0.2, wait=10).status == "success"
    with pytest.raises(exceptions.NotFoundException):
        admin.image.get_task(str(uuid.uuid4()))


# ---------------------------------------------------------------- errors and deletion
def test_errors_map_to_the_sdks_exceptions_and_delete_image(conn, admin):
    with pytest.raises(exceptions.NotFoundException, match="No image found with ID"):
        conn.image.get_image(UNKNOWN)
    with pytest.raises(exceptions.NotFoundException):
        conn.image.delete_image(UNKNOWN, ignore_missing=False)
    conn.image.delete_image(UNKNOWN)  # ignore_missing=True by default

    public = admin.image.create_image("sdk-public", disk_format="raw", container_format="bare", visibility="public")
    with pytest.raises(exceptions.ForbiddenException):
        conn.image.update_image(public.id, name="mine now")
    with pytest.raises(exceptions.ForbiddenException):
        conn.image.delete_image(public, ignore_missing=False)
    with pytest.raises(exceptions.ForbiddenException):
        conn.image.create_image("sdk-publicize", disk_format="raw", container_format="bare", visibility="public")

    private = admin.image.create_image("sdk-private", disk_format="raw", container_format="bare", visibility="private")
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(private.id)  # another project's private image does not exist for this caller

    with pytest.raises(exceptions.ConflictException):
        conn.image.create_image("sdk-twin", id=public.id, disk_format="raw", container_format="bare")

    image = active(conn, conn.image.create_image("sdk-delete", data=b"d" * 10, disk_format="raw"))
    conn.image.update_image(image.id, is_protected=True)
    with pytest.raises(exceptions.ForbiddenException, match="protected"):
        conn.image.delete_image(image, ignore_missing=False)
    conn.image.update_image(image.id, is_protected=False)

    conn.image.delete_image(image, ignore_missing=False)
    conn.image.wait_for_delete(image, interval=0.2, wait=10)
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(image.id)
    with pytest.raises(exceptions.NotFoundException):
        conn.image.delete_image(image, ignore_missing=False)


# ---------------------------------------------------------------- Glance calls we do not serve yet
def test_deactivate_and_reactivate_image(conn):
    image = active(conn, conn.image.create_image("sdk-deactivate", data=b"x" * 10, disk_format="raw"))
    conn.image.deactivate_image(image)  # Glance: 204 for an admin or the owner's member
    assert conn.image.get_image(image.id).status == "deactivated"
    conn.image.reactivate_image(image)
    assert conn.image.get_image(image.id).status == "active"


def test_add_tag_and_remove_tag(conn):
    image = conn.image.create_image("sdk-tags", disk_format="raw", container_format="bare", tags=["old"])
    conn.image.add_tag(image, "new")
    conn.image.remove_tag(image, "old")
    assert conn.image.get_image(image.id).tags == ["new"]
