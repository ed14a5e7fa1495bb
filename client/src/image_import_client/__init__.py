"""glance-image-upload: an image's data straight to S3 through the direct-upload extension's presigned
multipart URLs (parts in parallel, resumable), then the glance-direct import.

From Python::

    from image_import_client import ImageApi, upload_image
    api = ImageApi("http://127.0.0.1:9292", lambda: "member-token")
    result = upload_image("disk.img", api, image_fields={"name": "disk", "disk_format": "raw", "container_format": "bare"})
    result.image["status"]  # 'active'
"""

from image_import_client.api import ApiError, Credentials, ImageApi, token_source
from image_import_client.upload import UploadError, UploadResult, upload_image

__all__ = ["ApiError", "Credentials", "ImageApi", "UploadError", "UploadResult", "token_source", "upload_image"]
