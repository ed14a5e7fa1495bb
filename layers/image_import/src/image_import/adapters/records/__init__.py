"""DynamoDB repositories for the records, one per item kind: images (records/images.py), their owners'
quota counters (records/usage.py), the images' list and sweeper indexes (records/indexes.py) and tasks
(records/tasks.py), over what they share (records/table.py: the one read-change-conditional-write
``Editable.edit``, the conditional create and save, the one batch reader)."""

from image_import.adapters.records.images import ImageRepository, image_item
from image_import.adapters.records.indexes import ImageIndexes
from image_import.adapters.records.table import LIST_PAGE, TOMBSTONE, Editable, batch_items
from image_import.adapters.records.tasks import TaskRepository
from image_import.adapters.records.usage import UsageRepository

__all__ = [
    "LIST_PAGE",
    "TOMBSTONE",
    "Editable",
    "ImageIndexes",
    "ImageRepository",
    "TaskRepository",
    "UsageRepository",
    "batch_items",
    "image_item",
]
