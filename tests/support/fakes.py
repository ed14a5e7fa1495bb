"""In-memory stand-ins for the adapters (same contracts, including conditional writes)."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime

from image_import.adapters.ports import Ports
from image_import.adapters.records import Editable
from image_import.errors import ConcurrentUpdate, Conflict
from image_import.models import quota
from image_import.models.ids import canonical_id
from image_import.models.metadef import MetadefNamespace


class FakeRecords(Editable):  # edit(): the repositories' own, over this get and save
    def __init__(self):
        self.items: dict = {}
        self.tombstones: dict = {}  # deleted id -> owner: as the image repository, the id stays taken
        self.counters = FakeUsage(self)  # its owners' counters, summed from these records

    def get(self, key):
        item = self.items.get(canonical_id(key))  # as the repositories: keys in one spelling (models/ids.py)
        return item.model_copy(deep=True) if item else None

    def create(self, record, claims=()):
        if record.id in self.items or record.id in self.tombstones:
            raise Conflict(f"{record.id} already exists")
        self._admit(None, record, claims)
        self.items[record.id] = record.model_copy(deep=True)

    def save(self, record, claims=()):
        current = self.items.get(record.id)
        if current is None or current.version != record.version:
            raise ConcurrentUpdate(record.id)
        self._admit(current, record, claims)
        record.version += 1
        self.items[record.id] = record.model_copy(deep=True)

    def _admit(self, before, after, claims):
        if not claims:
            return
        own_change = quota.changes(quota.counted(before), quota.counted(after)).get(after.owner, {})
        counters = self.counters.usage(after.owner)
        holders = self.counters.overruns.setdefault(after.owner, {})
        refused = [
            c
            for c in claims
            if not c.allows(counters.get(c.resource, 0), own_change.get(c.resource, 0), holders.get(c.resource))
        ]
        if refused:
            raise quota.OverLimit(after.owner, refused, counters, own_change)
        for claim in claims:  # a write past the limit takes the slot (as the usage row's condition)
            if claim.overrun_by is not None and own_change.get(claim.resource, 0) > 0:
                holders[claim.resource] = claim.overrun_by

    def delete(self, key, expected_version=None):
        key = canonical_id(key)
        if expected_version is not None:  # the image repository's conditional delete
            current = self.items.get(key)
            if current is None or current.version != expected_version or current.protected:
                raise ConcurrentUpdate(key)
        record = self.items.pop(key, None)
        if record is not None:
            self.tombstones[key] = getattr(record, "owner", None)

    # a task repository's indexes (the same as an image repository's, in the fake)
    def every(self, after=None, descending=False):
        return FakeImageIndex(self).every(after, descending)

    def owned_by(self, project, after=None, descending=False):
        return FakeImageIndex(self).owned_by(project, after, descending)

    def in_status(self, status, updated_before):
        return FakeImageIndex(self).in_status(status, updated_before)

    def for_image(self, image_id):
        return [t.model_copy(deep=True) for t in self.items.values() if t.image_id == canonical_id(image_id)]


class FakeUsage:
    """The image repository's quota counters: summed from the records, so always exact here."""

    def __init__(self, records: FakeRecords):
        self.records = records
        self.overruns: dict = {}  # project -> resource -> the operation holding its overrun slot

    def usage(self, project):
        totals: dict[str, int] = {}
        for item in self.records.items.values():
            if getattr(item, "owner", None) == project:
                for name, value in quota.contribution(item).items():
                    totals[name] = totals.get(name, 0) + value
        return totals

    def usage_row(self, project):
        return self.usage(project), None, 0

    def set_usage(self, project, writes, counters):
        return True  # summed from the records: nothing to repair

    def counted_projects(self):
        return sorted({i.owner for i in self.records.items.values() if getattr(i, "owner", None)})

    def overrun_holders(self, project):
        return dict(self.overruns.get(project, {}))

    def release_overrun(self, project, resource, operation):
        if self.overruns.get(project, {}).get(resource) != operation:
            return False
        del self.overruns[project][resource]
        return True


class FakeImageIndex:
    """The image repository's indexes over the records: in list_position order, from just past ``after``."""

    def __init__(self, records: FakeRecords):
        self.records = records

    def _listed(self, wanted, after, descending):
        stored = (i.model_copy(deep=True) for i in self.records.items.values())  # an index, not a scan
        images = sorted((i for i in stored if wanted(i)), key=lambda i: i.list_position, reverse=descending)
        if after is None:
            return images
        return [i for i in images if (i.list_position < after if descending else i.list_position > after)]

    def every(self, after=None, descending=False):
        return self._listed(lambda i: True, after, descending)

    def owned_by(self, project, after=None, descending=False):
        return self._listed(lambda i: i.owner == project, after, descending)

    def with_visibility(self, visibility, after=None, descending=False):
        return self._listed(lambda i: i.visibility == visibility, after, descending)

    def shared_with(self, project, after=None, descending=False):
        return self._listed(lambda i: project in i.members, after, descending)

    # the sweeper's reads: the by-status indexes, and lookups by id (never scan: its tests make it fail)
    def in_status(self, status, updated_before):
        return [
            r.model_copy(deep=True)
            for r in self.records.items.values()
            if r.status == status and r.updated_at <= updated_before
        ]

    def by_ids(self, ids):
        wanted = {canonical_id(i) for i in ids}
        return {i: self.records.items[i].model_copy(deep=True) for i in wanted if i in self.records.items}


class FakeBucket:
    def __init__(self, name="bucket"):
        self.name = name
        self.objects: dict[str, bytes] = {}
        self.modified: dict[str, datetime] = {}
        self.multipart: dict[str, tuple[str, datetime]] = {}  # upload id -> (key, initiated)
        self.parts: dict[str, dict[int, bytes]] = {}  # direct uploads: upload id -> parts
        self.copies: list[tuple[str, str, str]] = []  # (source, target, etag) of every copy made
        self.part_sizes: list[int] = []  # the part size each copy was given

    def put(self, key, data, modified=None):
        self.objects[key] = data
        self.modified[key] = modified or datetime.now(UTC)

    def listing(self, prefix=""):
        return [(k, self.modified.get(k, datetime.now(UTC))) for k in sorted(self.objects) if k.startswith(prefix)]

    def uploads(self):
        return [(key, upload_id, initiated) for upload_id, (key, initiated) in sorted(self.multipart.items())]

    def size(self, key):
        return len(self.objects[key]) if key in self.objects else None

    def head(self, key):
        return (len(self.objects[key]), self.etag(key)) if key in self.objects else None

    def etag(self, key):
        return hashlib.md5(self.objects[key]).hexdigest()

    def copy(self, source, target, etag, size, *, part_size):
        """Server-side copy pinned on the source's ETag, as S3's CopySourceIfMatch."""
        if self.head(source) != (size, etag):
            return False
        self.put(target, self.objects[source])
        self.copies.append((source, target, etag))
        self.part_sizes.append(part_size)
        return True

    def chunks(self, key, chunk_size=4):
        data = self.objects[key]
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    def write(self, key, chunks, *, part_size):
        data = b"".join(chunks)
        self.put(key, data)
        return len(data)

    def delete(self, key):
        self.objects.pop(key, None)

    def read(self, key, first, last, etag=None):
        return b"".join(self.ranged_chunks(key, first, last, etag)) if etag else self.objects[key][first : last + 1]

    # ---- a copy in passes: reads and part copies pinned to the source's ETag, as S3's IfMatch
    def _pinned(self, key, etag):
        from image_import.errors import SourceChanged

        if key not in self.objects or self.etag(key) != etag:
            raise SourceChanged(key)
        return self.objects[key]

    def ranged_chunks(self, key, first, last, etag, chunk_size=4 * 1024 * 1024):
        data = self._pinned(key, etag)[first : last + 1]
        self.bytes_read = getattr(self, "bytes_read", 0) + len(data)
        for start in range(0, len(data), chunk_size):
            yield data[start : start + chunk_size]

    def copy_from(self, source, source_key, etag, key):
        self.put(key, source._pinned(source_key, etag))

    def copy_part_from(self, source, source_key, etag, key, upload_id, number, first, last):
        if upload_id not in self.parts:
            raise KeyError(f"NoSuchUpload {upload_id}")
        self.parts[upload_id][number] = source._pinned(source_key, etag)[first : last + 1]

    def abort_uploads(self, key):
        for upload_id, (upload_key, _) in list(self.multipart.items()):
            if upload_key == key:
                self.abort_multipart(key, upload_id)

    def presigned_get(self, key, expires_in):
        return f"https://fake-s3/{key}?expires={expires_in}"

    # direct uploads: URLs name what they would write; parts are put with put_part
    def presigned_put(self, key, expires_in, content_length):
        return f"https://fake-s3/{key}?expires={expires_in}&length={content_length}"

    def start_multipart(self, key):
        upload_id = f"upload-{uuid.uuid4().hex[:8]}"
        self.multipart[upload_id] = (key, datetime.now(UTC))
        self.parts[upload_id] = {}
        return upload_id

    def presigned_part(self, key, upload_id, part_number, expires_in, content_length):
        return f"https://fake-s3/{key}?uploadId={upload_id}&partNumber={part_number}&length={content_length}"

    def put_part(self, upload_id, part_number, data):
        self.parts[upload_id][part_number] = data

    def received_parts(self, key, upload_id):
        if upload_id not in self.parts:
            return None
        return {n: len(data) for n, data in self.parts[upload_id].items()}

    def complete_multipart(self, key, upload_id):
        self.multipart.pop(upload_id, None)
        parts = self.parts.pop(upload_id, None)
        if not parts:
            return False
        self.put(key, b"".join(data for _, data in sorted(parts.items())))
        return True

    def abort_multipart(self, key, upload_id):
        self.multipart.pop(upload_id, None)
        self.parts.pop(upload_id, None)

    def upload_part(self, key, upload_id, part_number, data):
        if upload_id not in self.parts:
            raise KeyError(f"NoSuchUpload: {upload_id}")  # as S3: aborted or completed
        self.parts[upload_id][part_number] = bytes(data)


class FakeWorkflow:
    def __init__(self, fail: Exception | None = None):
        self.started: list[tuple[str, dict]] = []
        self.fail = fail
        self.statuses: dict[str, str] = {}  # execution name -> status; started ones are RUNNING

    def status(self, name):
        if name in self.statuses:
            return self.statuses[name]
        return "RUNNING" if any(n == name for n, _ in self.started) else None

    def start(self, name, document):
        if self.fail:
            raise self.fail
        self.started.append((name, document))
        return f"arn:execution:{name}"


class FakeMetadefRecords:
    """The metadefs table in memory: namespace records and what they hold, as JSON documents (each read a
    fresh copy, each write stamped with its creation order unless it carries one, as the table's ``_seq``)."""

    HEAD = "namespace"

    def __init__(self):
        self.items: dict[tuple[str, str, str], dict] = {}
        self.types: dict[str, dict] = {}
        self.seq = 0

    def _stamp(self, record):
        self.seq += 1
        return json.loads(json.dumps({**record, "_seq": record.get("_seq") or self.seq}))

    def namespaces(self):
        heads = [r for (_, kind, _), r in self.items.items() if kind == self.HEAD]
        return [MetadefNamespace.model_validate(r) for r in self._ordered(heads)]

    def namespace(self, name):
        document = self.child(name, self.HEAD, "")
        return MetadefNamespace.model_validate(document) if document else None

    def add_namespace(self, namespace):
        return self.add(namespace.namespace, self.HEAD, "", namespace.document())

    def put_namespace(self, namespace):
        self.put(namespace.namespace, self.HEAD, "", namespace.document())

    def contents(self, name, kind):
        return self._ordered(r for (ns, k, _), r in self.items.items() if ns == name and k == kind)

    def child(self, name, kind, key):
        record = self.items.get((name, kind, key))
        return json.loads(json.dumps(record)) if record else None

    def add(self, name, kind, key, record):
        if (name, kind, key) in self.items:
            return False
        self.items[(name, kind, key)] = self._stamp(record)
        return True

    def put(self, name, kind, key, record):
        self.items[(name, kind, key)] = self._stamp(record)

    def remove(self, name, kind, key):
        return self.items.pop((name, kind, key), None) is not None

    def remove_all(self, name, kind=None):
        for key in [k for k in self.items if k[0] == name and (kind is None or k[1] == kind)]:
            del self.items[key]

    def resource_types(self):
        return self._ordered(self.types.values())

    def add_resource_type(self, record):
        if record["name"] in self.types:
            return False
        self.types[record["name"]] = self._stamp(record)
        return True

    @staticmethod
    def _ordered(records):
        return [json.loads(json.dumps(r)) for r in sorted(records, key=lambda r: r["_seq"])]


def fake_ports(workflow: FakeWorkflow | None = None) -> Ports:
    return ports_over(
        FakeRecords(),
        FakeRecords(),
        FakeBucket("staging"),
        FakeBucket("store"),
        workflow or FakeWorkflow(),
        metadefs=FakeMetadefRecords(),
    )


def ports_over(images: FakeRecords, tasks: FakeRecords, staging, store, workflow=None, **more) -> Ports:
    """Ports over these fakes: the image records' counters and indexes are views of the same records."""
    return Ports(
        images=images,
        usage=images.counters,
        image_index=FakeImageIndex(images),
        tasks=tasks,
        staging=staging,
        store=store,
        workflow=workflow,
        **more,
    )
