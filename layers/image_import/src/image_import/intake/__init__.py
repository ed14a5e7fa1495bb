"""How image data comes in: ``stage`` (``PUT /stage``, glance-direct), ``file_upload`` (``PUT /file``)
and ``direct_upload`` (presigned uploads straight to the staging bucket, and the S3 event that ends
one). Each checks the image's gates, writes through the stores, and hands the import to the workflow."""
