"""Import metrics, as CloudWatch embedded-metric-format lines (Powertools), for graphs and alarms.

Namespace ``POWERTOOLS_METRICS_NAMESPACE`` (the template's ``MetricsNamespace``), each metric with
the ``service`` dimension and one of its own:

* ``ImportsStarted``, ``ImportsSucceeded``, ``ImportsFailed`` (Count) by ``ImportMethod``;
* ``BytesImported`` (Bytes) by ``ImportMethod``: the size of each image that became active;
* ``ImportStepFailures`` (Count) by ``Step``: the state a failed import failed in, a plugin's
  state being ``Plugin-<name>`` (what "failed by plugin" asks);
* ``NotificationsFailed`` (Count) by ``EventType``: a lifecycle event lost after its retries.

Lambda ships stdout to CloudWatch Logs, which turns these lines into metrics: no API call, no
permission. ``POWERTOOLS_METRICS_DISABLED=true`` silences them. A metric that cannot be written
never fails an import.
"""

from __future__ import annotations

from image_import.observability import logger

DEFAULT_NAMESPACE = "ImageImport"


def import_started(method: str) -> None:
    _emit("ImportsStarted", "Count", 1, ImportMethod=method)


def import_succeeded(method: str, size: int) -> None:
    _emit("ImportsSucceeded", "Count", 1, ImportMethod=method)
    _emit("BytesImported", "Bytes", size, ImportMethod=method)


def import_failed(method: str, step: str) -> None:
    _emit("ImportsFailed", "Count", 1, ImportMethod=method)
    _emit("ImportStepFailures", "Count", 1, Step=step)


def notification_failed(event_type: str) -> None:
    _emit("NotificationsFailed", "Count", 1, EventType=event_type)


def _emit(name: str, unit: str, value: float, **dimensions: str) -> None:
    try:
        from aws_lambda_powertools.metrics import MetricUnit, single_metric
        from aws_lambda_powertools.metrics.functions import is_metrics_disabled

        from image_import.settings.environment import variable

        if is_metrics_disabled():  # single_metric itself ignores the switch
            return
        namespace = variable("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        with single_metric(name=name, unit=MetricUnit(unit), value=value, namespace=namespace) as metric:
            for key, dimension in dimensions.items():
                metric.add_dimension(name=key, value=dimension)
    except Exception:  # a metric is never worth a failed import
        logger.exception("metric not written", extra={"metric": name})
