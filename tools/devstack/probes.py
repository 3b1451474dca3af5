"""Readiness probes speaking each server's own protocol, with the standard library only.

Every probe returns True when the server answered a real request and False (or raises
OSError) while it is not ready yet.
"""

from __future__ import annotations

import itertools
import socket
import struct
import urllib.error
import urllib.request

from devstack import sigv4
from devstack.ports import HOST

_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_correlation = itertools.count(1)


# ---------------------------------------------------------------------- Kafka (Tansu)


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("connection closed")
        chunks += chunk
    return bytes(chunks)


def _kafka_call(sock: socket.socket, api_key: int, version: int, body: bytes) -> bytes:
    """Send one request with a v1 header; return the response after its correlation id."""
    correlation = next(_correlation)
    client_id = b"devstack"
    header = struct.pack(">hhih", api_key, version, correlation, len(client_id))
    header += client_id
    message = header + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    (size,) = struct.unpack(">i", _recv_exact(sock, 4))
    payload = _recv_exact(sock, size)
    (got,) = struct.unpack(">i", payload[:4])
    if got != correlation:
        raise ConnectionError(f"correlation id {got} != {correlation}")
    return payload[4:]


def _supported_versions(sock: socket.socket) -> dict[int, tuple[int, int]]:
    # ApiVersions v0 is answered by every broker whatever versions it supports.
    payload = _kafka_call(sock, api_key=18, version=0, body=b"")
    error, count = struct.unpack(">hi", payload[:6])
    if error:
        raise ConnectionError(f"ApiVersions error {error}")
    versions = {}
    for i in range(count):
        key, low, high = struct.unpack(">hhh", payload[6 + 6 * i : 12 + 6 * i])
        versions[key] = (low, high)
    return versions


def kafka_ready(port: int, timeout: float = 2.0) -> bool:
    """ApiVersions then a Metadata request; true when the broker lists itself."""
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        low, high = _supported_versions(sock).get(3, (0, -1))
        # Versions 1..8 share the non-flexible encoding handled here.
        version = max(low, 1)
        if version > min(high, 8):
            return True  # broker answered ApiVersions; Metadata encoding unsupported here
        body = struct.pack(">i", -1)  # all topics
        if version >= 4:
            body += b"\x00"  # allow_auto_topic_creation = false
        if version >= 8:
            body += b"\x00\x00"  # no authorized-operations lists
        payload = _kafka_call(sock, api_key=3, version=version, body=body)
        offset = 4 if version >= 3 else 0  # throttle_time_ms
        (brokers,) = struct.unpack(">i", payload[offset : offset + 4])
        if brokers < 1:
            return False
        offset += 8  # broker count + first node id
        (host_len,) = struct.unpack(">h", payload[offset : offset + 2])
        offset += 2 + host_len
        (advertised_port,) = struct.unpack(">i", payload[offset : offset + 4])
        return bool(advertised_port == port)


# ------------------------------------------------------------------ MongoDB (jongodb)


def _bson_ping() -> bytes:
    def cstring(text: str) -> bytes:
        return text.encode() + b"\x00"

    db = b"admin\x00"
    elements = (
        b"\x10"
        + cstring("ping")
        + struct.pack("<i", 1)
        + b"\x02"
        + cstring("$db")
        + struct.pack("<i", len(db))
        + db
    )
    return struct.pack("<i", 4 + len(elements) + 1) + elements + b"\x00"


def mongo_ready(port: int, timeout: float = 2.0) -> bool:
    """OP_MSG ``{ping: 1}`` on the admin database; true when the reply says ok 1."""
    document = _bson_ping()
    body = struct.pack("<I", 0) + b"\x00" + document  # flagBits, section kind 0
    header = struct.pack("<iiii", 16 + len(body), next(_correlation), 0, 2013)
    with socket.create_connection((HOST, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(header + body)
        (length,) = struct.unpack("<i", _recv_exact(sock, 4))
        reply = _recv_exact(sock, length - 4)
    return b"\x01ok\x00" + struct.pack("<d", 1.0) in reply


# --------------------------------------------------------------------- S3 (SeaweedFS)


def s3_ready(port: int, access_key: str, secret_key: str, region: str) -> bool:
    """A signed ListBuckets succeeds (so the identities file is loaded too)."""
    status, _ = sigv4.request(
        "GET", f"http://{HOST}:{port}/", access_key, secret_key, region, timeout=2.0
    )
    return bool(status == 200)


def s3_ensure_bucket(
    port: int, bucket: str, access_key: str, secret_key: str, region: str
) -> None:
    status, body = sigv4.request(
        "PUT", f"http://{HOST}:{port}/{bucket}", access_key, secret_key, region
    )
    if status != 200 and b"BucketAlreadyOwnedByYou" not in body:
        raise RuntimeError(f"creating bucket {bucket} failed with HTTP {status}")


# -------------------------------------------------------------------- LLM (llama.cpp)


def http_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=timeout) as resp:
            return bool(resp.status == 200)
    except urllib.error.HTTPError:
        return False
    except urllib.error.URLError as err:
        raise OSError(str(err.reason)) from err


def llm_ready(port: int) -> bool:
    return http_ok(f"http://{HOST}:{port}/v1/models")
