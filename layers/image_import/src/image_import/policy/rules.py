"""Glance's policy rules, evaluated by oslo.policy (the engine Glance uses).

Glance's current defaults are registered here; ``policy.yaml`` in the configuration directory
overrides any of them, so an operator's existing rules parse and evaluate exactly as in Glance.
oslo.policy is imported on first use: only requests that need a decision pay for it.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from image_import.policy.defaults import DEFAULT_RULES

if TYPE_CHECKING:
    from image_import.models import Image, RequestContext


class PolicyEngine:
    """Glance's defaults under the operator's overrides, in oslo.policy's rule language.

    We use oslo.policy's parser and checks directly rather than its Enforcer: the Enforcer pulls
    in oslo.config (~300 ms of cold start) for file loading that we do ourselves (settings/).
    Parsing and evaluation are oslo.policy's own, so rules behave exactly as in Glance.
    """

    def __init__(self, overrides: dict[str, str] | None = None):
        from oslo_policy import _parser

        self.texts = {**DEFAULT_RULES, **(overrides or {})}
        # RuleCheck ("rule:<name>") looks rules up on the enforcer it is given: this object
        self.rules = {name: _parser.parse_rule(text) for name, text in self.texts.items()}

    def allows(self, action: str, target: dict[str, Any], context: RequestContext) -> bool:
        from oslo_policy import _checks

        if not context.has_project:
            # Glance's rules are all scope_types=['project'] under enforce_scope (its default):
            # a domain- or system-scoped caller is refused everything (oslo.policy: InvalidScope)
            return False
        rule = self.rules.get(action) or self.rules["default"]
        return bool(_checks._check(rule, target, credentials(context), self, action))

    def passes_rule(self, name: str, target: dict[str, Any], context: RequestContext) -> bool:
        """Glance's ``rule:<name>`` check: a name no policy defines is refused (not ``default``)."""
        return name in self.rules and self.allows(name, target, context)

    def is_admin(self, context: RequestContext) -> bool:
        """Glance's ``check_is_admin``: the ``context_is_admin`` rule, the context as its target."""
        return self.allows("context_is_admin", credentials(context), context)


def credentials(context: RequestContext) -> dict[str, Any]:
    return {
        "user_id": context.user_id,
        "project_id": context.project_id,
        "roles": list(context.roles),
        "service_roles": list(context.service_roles),
        "service_user_id": context.service_user_id,
        "is_admin": context.is_admin,
    }


def admin_context(context: RequestContext, settings) -> RequestContext:
    """The context with ``is_admin`` decided by the ``context_is_admin`` rule (as Glance's context
    does on creation); the API calls this once per request, the authorizer never (no oslo.policy)."""
    return context.model_copy(update={"is_admin": engine(settings).is_admin(context)})


def image_target(image: Image, context: RequestContext) -> dict[str, Any]:
    """Glance's ImageTarget: every attribute and extra property, with its aliases."""
    target: dict[str, Any] = {
        **image.properties,
        **image.model_dump(exclude={"properties", "import_lock", "inspected_as", "arriving", "version", "members"}),
    }
    target["image_id"] = image.id
    target["project_id"] = image.owner
    target["member_id"] = member_alias(image, context)
    return target


def member_alias(image: Image, context: RequestContext) -> str | None:
    """Glance's ``member`` of an image it returned: the caller's project on another project's shared image.

    Glance's database layer returns a shared image to a project other than its owner only when that
    project is a member (or an admin), and then names the caller's project as the image's member for
    policy checks (``project_id:%(member_id)s``); for any other image it is None.
    """
    if image.visibility == "shared" and context.project_id is not None and image.owner != context.project_id:
        return context.project_id
    return None


@functools.cache  # Settings is frozen and hashed by identity: one engine per Settings object
def engine(settings) -> PolicyEngine:
    """One engine per settings object (rules are parsed once per container)."""
    return PolicyEngine(settings.policy_rules)
