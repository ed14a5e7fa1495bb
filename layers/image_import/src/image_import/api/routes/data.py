"""How an image's bytes come and go: stage (glance-direct), PUT/GET file, and direct uploads to S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from image_import.api.requests import (
    OCTET_STREAM,
    base_url,
    caller,
    header,
    json_body,
    raw_body,
    request_id,
    require_media_type,
)
from image_import.api.routes import IMAGE_ID, ports, require_import_enabled
from image_import.api.views import respond
from image_import.errors import NotFound
from image_import.settings import get_settings

router = APIGatewayRouter()


@router.put(f"/v2/images/{IMAGE_ID}/stage")
def stage_image(image_id: str) -> Response:
    from image_import.intake.stage import stage_image as stage

    context = caller()
    settings = get_settings()
    require_import_enabled()
    if "glance-direct" not in settings.enabled_import_methods:
        raise NotFound("'glance-direct' method is not available at this site.")
    require_media_type(OCTET_STREAM)
    stage(context, image_id, [raw_body()], header("x-openstack-image-size"), settings, ports())
    return respond(204)


@router.get(f"/v2/images/{IMAGE_ID}/file")
def download_image(image_id: str) -> Response:
    from image_import.images.download import download_image as download

    answer = download(caller(), image_id, header("range"), header("content-range"), get_settings(), ports())
    headers = {"x-openstack-request-id": request_id(), **answer.headers}
    if answer.status in (204, 303):
        return Response(status_code=answer.status, headers=headers, body="")
    return Response(status_code=answer.status, headers=headers, body=answer.body)  # bytes: sent base64


@router.put(f"/v2/images/{IMAGE_ID}/file")
def upload_image(image_id: str) -> Response:
    from image_import.intake.file_upload import upload_image as upload

    context = caller()
    require_media_type(OCTET_STREAM)
    upload(
        context,
        image_id,
        [raw_body()],
        header("x-openstack-image-size"),
        get_settings(),
        ports(),
        store_header=header("x-image-meta-store"),
    )
    return respond(204)


@router.delete(f"/v2/stores/<store_id>/{IMAGE_ID}")
def delete_from_store(store_id: str, image_id: str) -> Response:
    """Multi-store: the image's data leaves one store (policy delete_image_location)."""
    from image_import.stores.removal import delete_from_store as remove

    remove(caller(), store_id, image_id, get_settings(), ports())
    return respond(204)


# ---------------------------------------------------------------- direct uploads (an extension: not in Glance)
@router.post(f"/v2/images/{IMAGE_ID}/upload-urls")
def upload_urls(image_id: str) -> Response:
    """Presigned URLs to put the image's data straight into S3 (no size limit from API Gateway/Lambda)."""
    from image_import.intake.direct_upload import request_upload

    offer = request_upload(caller(), image_id, json_body(), get_settings(), ports())
    body: dict[str, Any] = {
        "image_id": offer.image_id,
        "size": offer.size,
        "import": offer.start_import,
        "expires_in": offer.expires_in,
    }
    if offer.upload_id is None:
        body["url"] = offer.url
    else:
        body["multipart"] = {
            "upload_id": offer.upload_id,
            "part_size": offer.part_size,
            "parts": [{"part_number": n, "url": url} for n, url in enumerate(offer.part_urls, start=1)],
            "complete_url": f"{base_url()}/v2/images/{image_id}/upload-complete",
        }
        if offer.parts_received is not None:  # a resumed upload: what S3 already holds
            body["multipart"]["parts_received"] = [
                {"part_number": n, "size": size} for n, size in sorted(offer.parts_received.items())
            ]
    return respond(200, body)


@router.post(f"/v2/images/{IMAGE_ID}/upload-complete")
def upload_complete(image_id: str) -> Response:
    """Complete a multipart upload server-side (S3 lists the parts); the S3 event then stages the image."""
    from image_import.intake.direct_upload import complete_upload

    complete_upload(caller(), image_id, json_body(), get_settings(), ports())
    return respond(202)
