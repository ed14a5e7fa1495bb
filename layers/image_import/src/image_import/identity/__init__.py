"""Identity: bearer tokens -> the :class:`Caller`, and the API Gateway authorizer's answer.

* ``token_file``, ``token_table``, ``keystone``: the three backends, chosen by ``[identity] backend``
  in ``glance-api.conf``: ``local-tokens.yaml`` (default), the tokens table (SHA-256 of each token,
  with expiry), Keystone's ``GET /v3/auth/tokens``;
* ``authenticate``: ``authenticate`` (token -> Caller) and ``validator_for`` (the configured backend);
* ``authorizer``: the token headers, the authorizer's answer and the caller read back from it.

Each backend is imported only when configured, so the authorizer's cold start pays for one.
The Caller value, NotAuthenticated and the validator contract live below, in ``models.caller``:
``settings`` builds Callers and sits under this room. Import the names from their modules.
"""
