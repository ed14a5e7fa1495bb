"""MD5 and the multihash, on two threads, with a state that survives the end of a function call.

An import moves its bytes in passes (transfer/passes.py), each in its own Lambda invocation, so the
digests must be carried from one pass to the next in the state machine's document. hashlib's
objects cannot be serialised. What can, measured on this 2-core box (benchmarks/hashing.py):

- OpenSSL's own MD5/SHA-1/SHA-256/SHA-512 through their public low-level API (``MD5_Update``...,
  the very assembly hashlib runs): ~650 MiB/s each, and ~680 MiB/s for MD5 + SHA-512 on two threads,
  because ctypes releases the GIL during the call. The state is the public ``*_CTX`` struct
  (92-216 bytes), copied out and back in; it is only ever read back by the same service.
- ``rehashes`` (Rust, RustCrypto): ~560 MiB/s each but it holds the GIL, so both together run at
  ~275 MiB/s: barely faster than Glance's one-thread hashing. It is the fallback where libcrypto
  lacks the low-level API (a build without deprecated APIs).
- ``rehash`` (pickles hashlib's OpenSSL contexts) refuses OpenSSL 3, which Lambda's python3.12 has.

An algorithm neither can resume (sha3_*, blake2*) hashes in one pass: ``resumable`` is False and
the pass engine gives such an import a single pass (with a clear failure if it cannot finish).
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import queue
import struct
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Protocol

# chunks a digest thread may be behind the reader (8 MiB each in a copy pass): what lets each run free
HASH_QUEUE_DEPTH = 4


@dataclass(frozen=True)
class Digests:
    size: int
    checksum: str  # MD5 hex, Glance's "checksum"
    hash_algo: str
    hash_value: str


class StateError(ValueError):
    """A saved hashing state this process cannot resume (corrupt, or from another backend)."""


class Digest(Protocol):
    name: str
    backend: str

    def update(self, data: bytes) -> None: ...
    def hexdigest(self) -> str: ...
    def state(self) -> bytes: ...


# ---- OpenSSL's low-level digests: struct size, digest size, where the struct keeps its byte count `num`
# (md5.h, sha.h: stable since OpenSSL 0.9.8). `num` bounds an index into the struct's block buffer: a
# restored state is refused unless it is below the block size, so a corrupt state is an error, never a crash.
_OPENSSL = {
    #          prefix    ctx  digest num-at block
    "md5": ("MD5", 92, 16, 88, 64),
    "sha1": ("SHA1", 96, 20, 92, 64),
    "sha256": ("SHA256", 112, 32, 104, 64),
    "sha512": ("SHA512", 216, 64, 208, 128),
}


@cache
def _libcrypto() -> ctypes.CDLL | None:
    """The libcrypto hashlib itself runs on (the one _hashlib mapped), with the low-level API, or None."""
    import _hashlib  # noqa: F401  # maps libcrypto into the process

    try:
        with open("/proc/self/maps") as maps:
            path = next((line.split()[-1] for line in maps if "libcrypto" in line), None)
    except OSError:
        path = None
    if path is None:
        from ctypes import util

        path = util.find_library("crypto")
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(path)
        for prefix, *_ in _OPENSSL.values():
            for suffix in ("_Init", "_Update", "_Final"):
                getattr(lib, prefix + suffix)
    except (OSError, AttributeError):
        return None
    for prefix, *_ in _OPENSSL.values():
        getattr(lib, prefix + "_Update").argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        getattr(lib, prefix + "_Init").argtypes = [ctypes.c_void_p]
        getattr(lib, prefix + "_Final").argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    return lib


class _OpenSSLDigest:
    backend = "openssl"

    def __init__(self, name: str, lib: ctypes.CDLL, saved: bytes | None = None):
        prefix, ctx_size, self._digest_size, num_at, block = _OPENSSL[name]
        self.name = name
        self._update = getattr(lib, prefix + "_Update")
        self._final = getattr(lib, prefix + "_Final")
        if saved is None:
            self._ctx = ctypes.create_string_buffer(ctx_size)
            getattr(lib, prefix + "_Init")(self._ctx)
        else:
            if len(saved) != ctx_size or struct.unpack_from("<I", saved, num_at)[0] >= block:
                raise StateError(f"not a {name} state")
            self._ctx = ctypes.create_string_buffer(saved, ctx_size)

    def update(self, data: bytes) -> None:
        self._update(self._ctx, data, len(data))

    def state(self) -> bytes:
        return self._ctx.raw

    def hexdigest(self) -> str:
        ctx = ctypes.create_string_buffer(self._ctx.raw, len(self._ctx))  # finishing a copy keeps this one going
        out = ctypes.create_string_buffer(64)
        self._final(out, ctx)
        return out.raw[: self._digest_size].hex()


_REHASHES = {"md5": "PyMd5", "sha1": "PySha1", "sha256": "PySha256", "sha512": "PySha512"}


class _RehashesDigest:
    backend = "rehashes"

    def __init__(self, name: str, saved: bytes | None = None):
        import rehashes

        kind = getattr(rehashes, _REHASHES[name])
        self.name = name
        try:
            self._hasher = kind() if saved is None else kind.deserialize(saved)
        except Exception as exc:
            raise StateError(f"not a {name} state: {exc}") from None

    def update(self, data: bytes) -> None:
        self._hasher.update(bytes(data))

    def state(self) -> bytes:
        return self._hasher.serialize()

    def hexdigest(self) -> str:
        return type(self._hasher).deserialize(self._hasher.serialize()).finalize()


class _OnePassDigest:
    """hashlib, for an algorithm no backend can resume: it has no state to save."""

    backend = "hashlib"

    def __init__(self, name: str):
        self.name = name
        self._hasher = hashlib.new(name)

    def update(self, data: bytes) -> None:
        self._hasher.update(data)

    def state(self) -> bytes:
        raise StateError(f"{self.name} cannot be resumed")

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def resumable(algorithm: str) -> bool:
    """Whether a hashing of ``algorithm`` can stop and go on in another call."""
    return algorithm in _OPENSSL  # both resumable backends cover exactly these


def new_digest(algorithm: str, saved: str | None = None) -> Digest:
    """A digest of ``algorithm``, fresh or resumed from ``saved`` (what ``saved_state`` returned)."""
    if saved is None:
        if algorithm not in _OPENSSL:
            return _OnePassDigest(algorithm)
        lib = _libcrypto()
        return _OpenSSLDigest(algorithm, lib) if lib is not None else _RehashesDigest(algorithm)
    backend, _, encoded = saved.partition(":")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise StateError(f"not a {algorithm} state") from None
    if algorithm not in _OPENSSL:
        raise StateError(f"{algorithm} cannot be resumed")
    if backend == "openssl" and _libcrypto() is not None:
        return _OpenSSLDigest(algorithm, _libcrypto(), raw)
    if backend == "rehashes":
        return _RehashesDigest(algorithm, raw)
    raise StateError(f"a {backend} state cannot be resumed here")


def saved_state(digest: Digest) -> str:
    """The digest's state as a short string for the state machine's document."""
    return f"{digest.backend}:{base64.b64encode(digest.state()).decode('ascii')}"


class _DigestThread:
    """One digest on a thread of its own, fed through a short queue: it runs at its own pace (MD5 and
    SHA-512 do not take the same time per chunk), so neither waits for the other chunk by chunk."""

    _STOP = object()

    def __init__(self, digest: Digest, name: str):
        self.digest = digest
        self._chunks: queue.Queue = queue.Queue(maxsize=HASH_QUEUE_DEPTH)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"hash-{name}", daemon=True)  # started by the first put

    def _run(self) -> None:
        while (chunk := self._chunks.get()) is not self._STOP:
            try:
                if self._failure is None:
                    self.digest.update(chunk)
            except BaseException as exc:  # kept for the feeding thread, which raises it
                self._failure = exc
            finally:
                self._chunks.task_done()
        self._chunks.task_done()

    def put(self, chunk: bytes) -> None:
        self._raise_failure()
        if not self._thread.is_alive():
            self._thread.start()
        self._chunks.put(chunk)

    def drain(self) -> None:
        self._chunks.join()
        self._raise_failure()

    def stop(self, wait: bool = True) -> None:
        if self._thread.is_alive():
            self._chunks.put(self._STOP)
            if wait:
                self._thread.join()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure


class ParallelHasher:
    """Feed chunks in order; MD5 and the multihash each update on a thread of their own.

    ``ParallelHasher.resume(snapshot)`` goes on where ``snapshot()`` stopped, in another process.
    At most HASH_QUEUE_DEPTH chunks wait for a digest: memory does not grow with the data.
    """

    def __init__(self, algorithm: str, *, md5: Digest | None = None, multi: Digest | None = None, size: int = 0):
        self.algorithm = algorithm
        self._md5 = _DigestThread(md5 or new_digest("md5"), "md5")
        self._multi = _DigestThread(multi or new_digest(algorithm), algorithm)
        self.size = size

    @classmethod
    def resume(cls, snapshot: dict) -> ParallelHasher:
        algorithm = snapshot["algorithm"]
        return cls(
            algorithm,
            md5=new_digest("md5", snapshot["md5"]),
            multi=new_digest(algorithm, snapshot["multi"]),
            size=snapshot["size"],
        )

    @property
    def resumable(self) -> bool:
        return resumable(self.algorithm)

    def update(self, chunk: bytes) -> None:
        """Hand ``chunk`` (bytes: it is hashed after this returns) to both digests."""
        self.size += len(chunk)
        self._md5.put(chunk)
        self._multi.put(chunk)

    def _drain(self) -> None:
        self._md5.drain()
        self._multi.drain()

    def snapshot(self) -> dict:
        """Where the hashing stands: a few hundred bytes of JSON-safe values."""
        self._drain()
        return _snapshot(self.algorithm, self.size, self._md5.digest, self._multi.digest)

    def finish(self) -> Digests:
        try:
            self._drain()
            return Digests(self.size, self._md5.digest.hexdigest(), self.algorithm, self._multi.digest.hexdigest())
        finally:
            self.close()

    def close(self) -> None:
        self._md5.stop()
        self._multi.stop()

    def __del__(self) -> None:  # a hasher dropped without finish() or close() must not leave its threads waiting
        for digest in (getattr(self, "_md5", None), getattr(self, "_multi", None)):
            if digest is not None:
                digest.stop(wait=False)


def fresh_snapshot(algorithm: str) -> dict | None:
    """What a new ParallelHasher of ``algorithm`` would snapshot, made without one (no threads, no queues);
    None when ``algorithm`` cannot be resumed."""
    if not resumable(algorithm):
        return None
    return _snapshot(algorithm, 0, new_digest("md5"), new_digest(algorithm))


def _snapshot(algorithm: str, size: int, md5: Digest, multi: Digest) -> dict:
    return {"algorithm": algorithm, "size": size, "md5": saved_state(md5), "multi": saved_state(multi)}


def hashed(chunks: Iterable[bytes], hasher: ParallelHasher, size_cap: int) -> Iterator[bytes]:
    """Pass chunks through, hashing them and enforcing the size cap."""
    from image_import.errors import ImportFailed

    for chunk in chunks:
        if hasher.size + len(chunk) > size_cap:
            raise ImportFailed(f"Image exceeds the size cap of {size_cap} bytes")
        hasher.update(chunk)
        yield chunk
