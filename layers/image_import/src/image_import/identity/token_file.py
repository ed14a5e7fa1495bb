"""The ``token_file`` identity backend: the development tokens of ``local-tokens.yaml``."""

from __future__ import annotations

from collections.abc import Mapping

from image_import.models.caller import Caller, NotAuthenticated


class TokenFile:
    def __init__(self, tokens: Mapping[str, Caller]):
        self.tokens = tokens

    def validate(self, token: str) -> Caller:
        caller = self.tokens.get(token)
        if caller is None:
            raise NotAuthenticated()
        return caller
