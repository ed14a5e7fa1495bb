"""API Gateway REQUEST authorizer: X-Auth-Token -> caller identity (user, project, roles)."""

from image_import.config import get_settings
from image_import.identity import authenticate, authorizer_response, token_from


def handler(event, context):
    caller = authenticate(token_from(event.get("headers")), get_settings())
    return authorizer_response(caller, event["methodArn"])
