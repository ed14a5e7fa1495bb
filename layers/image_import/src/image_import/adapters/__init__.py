"""boto3 lives only here: repositories (DynamoDB), staging and store (S3), workflow (Step Functions).

boto3 is imported on first use, not at module import, so that a cold start that serves
``GET /versions`` never pays for it.
"""
