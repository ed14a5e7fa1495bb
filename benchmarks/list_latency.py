"""Figure 8: a project's image list against the number of images in other projects.

    .venv/bin/python benchmarks/list_latency.py                   # 100, 1,000, 10,000 and 100,000 others
    .venv/bin/python benchmarks/list_latency.py --others 100,10000

The images table as template.yaml declares it (its indexes included) in moto's DynamoDB, in this
process. One project owns 20 images (some shared with it by a third); another project owns N private
images, written in batches. For each N: ``images.catalog.list_images`` as that project (the API's
path without HTTP), the median of 3 runs, and the DynamoDB calls it made; then the same list as an
admin's first page (25 images, Glance's default limit) through the all-images index: every image is the
admin's, so its page is read in list order from the index, a page of it (up to 10,000 others: moto's
Query walks the whole table to answer, which DynamoDB does not). Figures only.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
import uuid

from harness import REPO, section, table

PROJECT, OTHERS, SHARER = "listing-project", "other-project", "sharing-project"
OWN_IMAGES, SHARED_IMAGES = 20, 5
RUNS = 3
ADMIN_UP_TO = 10_000  # beyond, moto's Query (it walks the table) takes minutes: left out


def _images_table(dynamodb, name: str) -> None:
    from image_import_dev.local.stack import _index
    from image_import_dev.local.template import _read_document

    props = _read_document(REPO / "template.yaml")["Resources"]["ImagesTable"]["Properties"]
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[_index(i) for i in props["GlobalSecondaryIndexes"]],
    )


def _write_images(dynamodb, name: str, images) -> None:
    from image_import.adapters.records import image_item

    batch = []
    for image in images:
        batch.append({"PutRequest": {"Item": image_item(image)}})
        if len(batch) == 25:
            dynamodb.batch_write_item(RequestItems={name: batch})
            batch = []
    if batch:
        dynamodb.batch_write_item(RequestItems={name: batch})


def _timed_list(context, settings, ports, calls: list[str], limit: int = 1000) -> tuple[float, int, dict[str, int]]:
    from image_import.images.catalog import list_images

    timings = []
    for _ in range(RUNS):
        calls.clear()
        started = time.perf_counter()  # the calls of the last run are the ones counted
        page = list_images(context, {"limit": [str(limit)]}, settings, ports)
        timings.append(time.perf_counter() - started)
    counted: dict[str, int] = {}
    for call in calls:
        counted[call] = counted.get(call, 0) + 1
    return statistics.median(timings), len(page.images), counted


def bench_list_latency(others: list[int]) -> None:
    import os

    import botocore.client
    from moto import mock_aws

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))  # tests.support.fakes: the other ports, which a list does not use
    os.environ.setdefault("IMAGE_IMPORT_CONFIG_DIR", str(REPO / "config"))
    section("8. A project's image list against the images of other projects (DynamoDB indexes, moto)")
    os.environ.update({"AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    # in-process moto: an earlier figure's moto server (use_endpoint) is gone, and moto mocks no other endpoint
    os.environ.pop("AWS_ENDPOINT_URL", None)
    calls: list[str] = []
    real = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        answer = real(self, operation, params)
        if self.meta.service_model.service_name == "dynamodb":
            calls.append(operation)
            read = answer.get("ScannedCount")
            if operation == "BatchGetItem":
                read = sum(len(items) for items in answer.get("Responses", {}).values())
            calls.extend(["item read"] * (read or 0))
        return answer

    botocore.client.BaseClient._make_api_call = counting
    rows = []
    with mock_aws():
        import boto3

        from image_import.adapters.aws import reset_clients
        from image_import.adapters.records import ImageIndexes, ImageRepository, UsageRepository
        from image_import.models import Image, RequestContext
        from image_import.models.image import ImageMember
        from image_import.settings import get_settings
        from tests.support.fakes import fake_ports

        reset_clients()
        dynamodb, name = boto3.client("dynamodb"), "bench-images"
        _images_table(dynamodb, name)
        repository = ImageRepository(name)
        ports = dataclasses.replace(
            fake_ports(), images=repository, usage=UsageRepository(name), image_index=ImageIndexes(name)
        )
        settings = get_settings()
        member = ImageMember(status="accepted")
        own = [Image(id=str(uuid.uuid4()), owner=PROJECT, visibility="private") for _ in range(OWN_IMAGES)]
        for image in own:
            repository.create(image)
        for _ in range(SHARED_IMAGES):
            image = Image(id=str(uuid.uuid4()), owner=SHARER, visibility="shared")
            repository.create(image)
            image.members = {PROJECT: member}
            repository.save(image)
        user = RequestContext(project_id=PROJECT, user_id="u", roles=["member", "reader"])
        admin = RequestContext(project_id="admin", user_id="a", roles=["admin"], is_admin=True)
        written = 0
        for count in sorted(others):
            fill = (Image(id=str(uuid.uuid4()), owner=OTHERS, visibility="private") for _ in range(count - written))
            started = time.perf_counter()
            _write_images(dynamodb, name, fill)
            setup = time.perf_counter() - started
            written = count
            seconds, listed, made = _timed_list(user, settings, ports, calls)
            admin_seconds, admin_listed, admin_made = (
                _timed_list(admin, settings, ports, calls, 25) if count <= ADMIN_UP_TO else (float("nan"), 0, {})
            )
            rows.append(
                [
                    f"{count:,}",
                    f"{seconds * 1000:.1f} ms",
                    str(listed),
                    _calls(made),
                    f"{made.get('item read', 0):,}",
                    f"{admin_seconds * 1000:,.0f} ms",
                    str(admin_listed),
                    _calls(admin_made),
                    f"{admin_made.get('item read', 0):,}",
                    f"{setup:.0f} s",
                ]
            )
    botocore.client.BaseClient._make_api_call = real
    first = float(rows[0][1].split()[0])
    for row in rows:
        row.insert(2, f"{float(row[1].split()[0]) / first:.2f}x")
    headers = ["others' images", "project list", "vs first", "listed", "calls", "items read"]
    headers += ["admin page", "listed", "calls", "items read", "fill"]
    print(table(headers, rows))
    print(
        "  items read: what DynamoDB reads for the list (ScannedCount of each Query/Scan, items of each"
        " BatchGetItem), its cost model. moto answers a Query on an index by going through every item of"
        " the table, so its times grow with the table where DynamoDB's do not: read the items column."
    )


def _calls(counted: dict[str, int]) -> str:
    return ", ".join(f"{k} x{v}" for k, v in sorted(counted.items()) if k != "item read")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--others", default="100,1000,10000,100000")
    args = parser.parse_args(argv)
    bench_list_latency([int(n) for n in args.others.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
