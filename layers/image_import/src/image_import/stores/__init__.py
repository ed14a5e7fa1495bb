"""Many stores (Glance's multi-store): which stores an import or a copy targets, where each store's data
is (a bucket, possibly in another region), and what ``/v2/info/stores`` says about them.

Single-store sites never reach this room: ``Settings.stores`` is empty and everything works on the stack's
one store bucket as before.
"""
