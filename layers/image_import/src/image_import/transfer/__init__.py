"""Bytes only: where data lives (``layout``), how it is cut (``parts``), hashed (``hashing``),
inspected (``inspection``) and rewritten in bounded passes (``passes``). Nothing here knows an
image's lifecycle, a store or the workflow; the rooms above hand it streams, keys and sizes."""
