"""Glance's default policy rules (glance/policies/*.py, secure RBAC), for the actions this service has.

Plain data, in a module of its own: settings/ checks the names a protections file refers to
against them at load, and must not import the engine (nor pydantic, nor oslo.policy) to do so.
"""

from __future__ import annotations

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
    # multi-store: DELETE /v2/stores/{store_id}/{image_id} checks both (glance/policies/image.py)
    "get_image_location": "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
    "delete_image_location": "rule:context_is_admin",
}

# Glance's metadata-definition defaults (glance/policies/metadef.py): reads for a project's readers
# of its own or public namespaces, every change for metadef_admin (admins).
_READER_OF_NAMESPACE = (
    "rule:context_is_admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))"
)
METADEF_RULES: dict[str, str] = {
    "metadef_default": "",
    "metadef_admin": "rule:context_is_admin",
    "get_metadef_namespace": _READER_OF_NAMESPACE,
    "get_metadef_namespaces": "rule:context_is_admin or (role:reader and project_id:%(project_id)s)",
    "modify_metadef_namespace": "rule:metadef_admin",
    "add_metadef_namespace": "rule:metadef_admin",
    "delete_metadef_namespace": "rule:metadef_admin",
    "get_metadef_object": _READER_OF_NAMESPACE,
    "get_metadef_objects": _READER_OF_NAMESPACE,
    "modify_metadef_object": "rule:metadef_admin",
    "add_metadef_object": "rule:metadef_admin",
    "delete_metadef_object": "rule:metadef_admin",
    "list_metadef_resource_types": _READER_OF_NAMESPACE,
    "get_metadef_resource_type": _READER_OF_NAMESPACE,
    "add_metadef_resource_type_association": "rule:metadef_admin",
    "remove_metadef_resource_type_association": "rule:metadef_admin",
    "get_metadef_property": _READER_OF_NAMESPACE,
    "get_metadef_properties": _READER_OF_NAMESPACE,
    "modify_metadef_property": "rule:metadef_admin",
    "add_metadef_property": "rule:metadef_admin",
    "remove_metadef_property": "rule:metadef_admin",
    "get_metadef_tag": _READER_OF_NAMESPACE,
    "get_metadef_tags": _READER_OF_NAMESPACE,
    "modify_metadef_tag": "rule:metadef_admin",
    "add_metadef_tag": "rule:metadef_admin",
    "add_metadef_tags": "rule:metadef_admin",
    "delete_metadef_tag": "rule:metadef_admin",
    "delete_metadef_tags": "rule:metadef_admin",
}
DEFAULT_RULES.update(METADEF_RULES)
