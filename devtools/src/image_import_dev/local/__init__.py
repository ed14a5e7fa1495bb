"""The local stack: the whole SAM app in one process, moto playing AWS, no account and no Docker.

* ``runtime``    boto3 ``lambda.invoke`` runs the real handler functions in this process.
* ``template``   SAM template -> CloudFormation (samtranslator, offline) -> resolved names and values.
* ``apigateway`` API Gateway REST (v1) Lambda proxy: routes, REQUEST/TOKEN authorizers, proxy events.
* ``stack``      ``LocalStack``: creates the template's resources in moto and ties the above together.
* ``server``     an in-process moto server and the HTTP front door (``python -m image_import_dev.local``).
* ``process``    that command as a subprocess on a free port, ready when it says so (tests, benchmarks).
"""


class LocalStackError(Exception):
    """The template asks for something the local stack cannot do, or cannot do unambiguously."""
