"""Property protections, in both of Glance's file formats.

Each section of the file is a regular expression matched (``re.search``) against a property
name, in file order; the first match decides. Its ``create``/``read``/``update``/``delete``
options hold roles (``property_protection_rule_format = roles``) or one policy rule name each
(``policies``); ``@`` allows anyone, ``!`` no one. A property that matches no section is
denied. The reserved ``os_glance*`` namespace is readable by everyone and written only by the
service, never through protections.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from image_import.models import RequestContext

if TYPE_CHECKING:
    from image_import.settings import ProtectionRule, Settings


class PropertyProtections:
    """The operator's protections (read and checked with the settings: ``settings.files.load_protections``)."""

    def __init__(self, sections: tuple[ProtectionRule, ...], rule_format: str, settings: Settings):
        self.sections, self.rule_format, self.settings = sections, rule_format, settings

    @classmethod
    def of(cls, settings: Settings) -> PropertyProtections | None:
        """The configured protections (None when no property_protection_file is set)."""
        if settings.property_protections is None:
            return None
        return cls(settings.property_protections, settings.property_protection_rule_format, settings)

    def allows(self, context: RequestContext, name: str, operation: str) -> bool:
        if name.startswith("os_glance"):
            return True
        for section in self.sections:
            if section.pattern.search(name):
                return self._passes(section.rules[operation], context)
        return False

    def _passes(self, rule: str, context: RequestContext) -> bool:
        if rule == "@":
            return True
        if rule in ("!", ""):
            return False
        if self.rule_format == "policies":
            from image_import.policy.rules import engine

            # Glance checks these generated rules with an empty target: credentials only
            return engine(self.settings).allows(rule, {}, context)
        allowed = {r.strip().lower() for r in rule.split(",") if r.strip()}
        if "@" in allowed:
            return True
        return bool(allowed & (set(context.roles) | set(context.service_roles)))

    def readable(self, context: RequestContext, properties: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in properties.items() if self.allows(context, k, "read")}


def protections(settings: Settings) -> PropertyProtections | None:
    """The configured protections (None when no property_protection_file is set)."""
    return PropertyProtections.of(settings)


def may(context: RequestContext, settings: Settings, name: str, operation: str) -> bool:
    rules = protections(settings)
    return rules is None or rules.allows(context, name, operation)


def shown(
    body: dict[str, Any], base_keys: frozenset[str], context: RequestContext, settings: Settings
) -> dict[str, Any]:
    """An image body without the extra properties this caller may not read."""
    rules = protections(settings)
    if rules is None:
        return body
    return {k: v for k, v in body.items() if k in base_keys or rules.allows(context, k, "read")}
