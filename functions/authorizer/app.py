"""API Gateway REQUEST authorizer: X-Auth-Token (+ X-Service-Token) -> caller identity (user, project, roles)."""

from image_import.identity.authenticate import authenticate
from image_import.identity.authorizer import authorizer_response, service_token_from, token_from
from image_import.settings import get_settings


def handler(event, context):
    headers = event.get("headers")
    caller = authenticate(token_from(headers), get_settings(), service_token_from(headers))
    return authorizer_response(caller, event["methodArn"])
