"""The Tasks API (``/v2/tasks``): Glance's task records, their list and views, and the legacy
``import`` task, which runs on the same import machinery as ``POST /import``."""
