"""Glance's policy rules, evaluated by oslo.policy (the engine Glance uses).

Glance's current defaults are registered here; ``policy.yaml`` in the configuration directory
overrides any of them, so an operator's existing rules parse and evaluate exactly as in Glance.
oslo.policy is imported on first use: only requests that need a decision pay for it.
"""

from __future__ import annotations

import functools
from typing import Any

from image_import.models import Image, RequestContext

_MEMBER_OF_PROJECT = "role:member and project_id:%(project_id)s"
_ADMIN_OR_MEMBER = f"rule:context_is_admin or ({_MEMBER_OF_PROJECT})"
_VISIBLE = (
    "project_id:%(project_id)s or project_id:%(member_id)s or 'community':%(visibility)s "
    "or 'public':%(visibility)s or 'shared':%(visibility)s"
)
_READER_OF_PROJECT_OR_SHARED_MEMBER = (
    "rule:context_is_admin or role:reader and (project_id:%(project_id)s or project_id:%(member_id)s)"
)

# Glance's defaults (glance/policies/*.py, secure RBAC), for the actions this service has.
DEFAULT_RULES: dict[str, str] = {
    "context_is_admin": "role:admin",
    "default": "",
    "service_api": "role:service or role:admin",
    "add_image": "rule:context_is_admin or (role:member and project_id:%(project_id)s and project_id:%(owner)s)",
    "get_image": f"rule:context_is_admin or (role:reader and ({_VISIBLE}))",
    "get_images": "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
    "modify_image": _ADMIN_OR_MEMBER,
    "upload_image": _ADMIN_OR_MEMBER,
    "delete_image": _ADMIN_OR_MEMBER,
    "download_image": f"rule:context_is_admin or (role:member and ({_VISIBLE}))",
    "publicize_image": "rule:context_is_admin",
    "communitize_image": _ADMIN_OR_MEMBER,
    "copy_image": "rule:context_is_admin",
    "deactivate": _ADMIN_OR_MEMBER,
    "reactivate": _ADMIN_OR_MEMBER,
    "add_member": _ADMIN_OR_MEMBER,
    "delete_member": _ADMIN_OR_MEMBER,
    "get_member": _READER_OF_PROJECT_OR_SHARED_MEMBER,
    "get_members": _READER_OF_PROJECT_OR_SHARED_MEMBER,
    "modify_member": "rule:context_is_admin or (role:member and project_id:%(member_id)s)",
    "get_task": "rule:default",
    "get_tasks": "rule:default",
    "add_task": "rule:default",
    "modify_task": "rule:default",
    "tasks_api_access": "rule:context_is_admin",
    "stores_info_detail": "rule:context_is_admin or rule:service_api",
}


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

        rule = self.rules.get(action) or self.rules["default"]
        return bool(_checks._check(rule, target, credentials(context), self, action))


def credentials(context: RequestContext) -> dict[str, Any]:
    return {
        "user_id": context.user_id,
        "project_id": context.project_id,
        "roles": list(context.roles),
        "service_roles": list(context.service_roles),
        "service_user_id": context.service_user_id,
        "is_admin": context.is_admin,
    }


def image_target(image: Image, context: RequestContext) -> dict[str, Any]:
    """Glance's ImageTarget: every attribute and extra property, with its aliases."""
    target: dict[str, Any] = {
        **image.properties,
        **image.model_dump(exclude={"properties", "import_lock", "version", "members"}),
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
