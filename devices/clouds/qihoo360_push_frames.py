"""Wire format of the 360 push channel (cloud-apis.md 3.7.2-3.7.6): frames and bodies.

Pure functions and a stream reader, no sockets: ``qihoo360_push`` moves the bytes.

- ``FrameReader`` cuts a TCP byte stream into ``Frame``s (any chunking, one byte at a
  time included); a version other than 5 is a ``PushProtocolError`` (close, reconnect).
- ``split_messages`` reads an opcode-3 payload (``u64 msgId | u32 product | u32 bodyLen
  | body``, back to back); a payload the messages do not fill exactly is ``MalformedFrame``.
- ``decode_body`` opens one message body ``{"data": <base64>, "encrypt": 1}`` into the
  decrypted event object (AES-128-CBC, key = IV = the first 16 UTF-8 bytes of the
  pushKey, zero-padded); ``DecryptFailed`` / ``GarbageMessage`` tell a wrong key from
  garbage. Neither exception carries any content or key.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .errors import CloudError

VERSION = 5
OP_HEARTBEAT = 0  # client -> server, exactly 00 05 00 00
OP_HEARTBEAT_REPLY = 1  # server -> client, 4 bytes, ignored
OP_BIND = 2
OP_MESSAGE = 3
OP_ACK = 4
OP_BIND_ACK = 6
OP_ALIAS_BIND = 17  # related Botslab stack only: not used, skipped like any unknown opcode
SHORT_OPCODES = (OP_HEARTBEAT, OP_HEARTBEAT_REPLY)  # 4-byte frames without properties
PRODUCT_ID = 60009  # the push product of the vacuum service
HEARTBEAT = struct.pack(">HH", VERSION, OP_HEARTBEAT)
MAX_PAYLOAD = 16 * 1024 * 1024  # a larger payloadLen is taken as a corrupt stream
_MESSAGE_HEAD = struct.Struct(">QII")  # msgId, product, bodyLen


# --- errors ---------------------------------------------------------------------------


class PushError(CloudError):
    """The push connection failed; close it and reconnect with back-off (3.7.8)."""

    default_user_message = "The 360 push channel is not connected. Retrying."

    def __init__(self, message: str | None = None, **kw: Any):
        super().__init__(message, **kw)
        self.retryable = True


class PushProtocolError(PushError):
    """The server sent bytes that are not a version-5 frame stream (3.7.2)."""


class MalformedFrame(ValueError):
    """An opcode-3 payload whose messages do not fill ``payloadLen`` exactly (3.7.5)."""


class GarbageMessage(ValueError):
    """A message body (or the event inside it) that is not the expected JSON."""


class DecryptFailed(ValueError):
    """An encrypted body that does not decrypt to JSON with this pushKey (wrong key?)."""


# --- frames ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Frame:
    """One frame. ``header`` is the first ``6 + propLen`` bytes (4 for opcodes 0 and 1):
    what an acknowledgement echoes. ``payload`` is set for opcode 3 only."""

    opcode: int
    properties: Mapping[str, str] = field(default_factory=dict)
    header: bytes = b""
    payload: bytes | None = None

    @property
    def ack_token(self) -> str:
        return self.properties.get("ack", "").strip()


def parse_properties(raw: bytes) -> dict[str, str]:
    """``key:value`` lines separated by ``\\n``; empty lines dropped, split at the first
    ``:``, a trailing newline tolerated (3.7.2). Lines without ``:`` are ignored."""
    properties: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").split("\n"):
        line = line.strip("\r")
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if colon:
            properties[key.strip()] = value
    return properties


def encode_properties(properties: Mapping[str, object] | Iterable[tuple[str, object]]) -> bytes:
    items = properties.items() if isinstance(properties, Mapping) else properties
    return "\n".join(f"{key}:{value}" for key, value in items).encode("utf-8")


def encode_frame(
    opcode: int,
    properties: Mapping[str, object] | Iterable[tuple[str, object]] | bytes = b"",
    payload: bytes | None = None,
) -> bytes:
    """The bytes of one frame (3.7.2). Opcodes 0 and 1 are the bare 4-byte header."""
    if opcode in SHORT_OPCODES:
        return struct.pack(">HH", VERSION, opcode)
    props = properties if isinstance(properties, bytes) else encode_properties(properties)
    if len(props) > 0xFFFF:
        raise ValueError("properties longer than 65535 bytes")
    frame = struct.pack(">HHH", VERSION, opcode, len(props)) + props
    if opcode == OP_MESSAGE:
        body = payload or b""
        frame += struct.pack(">I", len(body)) + body
    return frame


def bind_frame(sid: str, ts_ms: int, *, cv: str = "1.7", t: int = 30) -> bytes:
    """Opcode 2, properties ``cv:1.7\\nt:30\\nu:<SID>@60009\\nts:<ms>``, no trailing
    newline (3.7.4)."""
    props = f"cv:{cv}\nt:{t}\nu:{sid}@{PRODUCT_ID}\nts:{ts_ms}".encode()
    return encode_frame(OP_BIND, props)


def ack_frame(frame: Frame) -> bytes:
    """The first ``6 + propLen`` bytes of the received frame with the opcode set to 4
    (3.7.5): header and properties, no payload length, no payload."""
    return frame.header[:2] + struct.pack(">H", OP_ACK) + frame.header[4:]


class FrameReader:
    """Buffers a byte stream and cuts it into frames by the length rules of 3.7.2.

    ``feed(data)`` returns the frames completed so far; bytes of an incomplete frame stay
    buffered. A frame whose version is not 5 (or an absurd ``payloadLen``) raises
    ``PushProtocolError``, and so does every later call: the stream cannot be re-synced.
    """

    def __init__(self, max_payload: int = MAX_PAYLOAD):
        self._buffer = bytearray()
        self._max_payload = max_payload
        self._broken: str | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame]:
        if self._broken:
            raise PushProtocolError(self._broken)
        self._buffer += data
        frames: list[Frame] = []
        while True:
            frame = self._cut()
            if frame is None:
                return frames
            frames.append(frame)

    def _cut(self) -> Frame | None:
        buf = self._buffer
        if len(buf) < 4:
            return None
        version, opcode = struct.unpack_from(">HH", buf, 0)
        if version != VERSION:
            self._fail(f"360 push: frame version {version}, expected {VERSION}")
        if opcode in SHORT_OPCODES:
            header = bytes(buf[:4])
            del buf[:4]
            return Frame(opcode, {}, header)
        if len(buf) < 6:
            return None
        (prop_len,) = struct.unpack_from(">H", buf, 4)
        end = 6 + prop_len
        payload = None
        total = end
        if opcode == OP_MESSAGE:
            if len(buf) < end + 4:
                return None
            (payload_len,) = struct.unpack_from(">I", buf, end)
            if payload_len > self._max_payload:
                self._fail(f"360 push: payloadLen {payload_len} exceeds {self._max_payload}")
            total = end + 4 + payload_len
            if len(buf) < total:
                return None
            payload = bytes(buf[end + 4 : total])
        elif len(buf) < total:
            return None
        header = bytes(buf[:end])
        del buf[:total]
        return Frame(opcode, parse_properties(header[6:]), header, payload)

    def _fail(self, message: str) -> None:
        self._broken = message
        self._buffer.clear()
        raise PushProtocolError(message)


# --- messages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RawMessage:
    msg_id: int
    product: int
    body: bytes


def split_messages(payload: bytes) -> list[RawMessage]:
    """The messages of an opcode-3 payload (3.7.5). An empty payload has none."""
    messages = []
    offset = 0
    while offset < len(payload):
        if len(payload) - offset < _MESSAGE_HEAD.size:
            raise MalformedFrame("truncated message header")
        msg_id, product, body_len = _MESSAGE_HEAD.unpack_from(payload, offset)
        offset += _MESSAGE_HEAD.size
        if body_len == 0 or body_len > len(payload) - offset:
            raise MalformedFrame("bodyLen does not fit the payload")
        messages.append(RawMessage(msg_id, product, payload[offset : offset + body_len]))
        offset += body_len
    return messages


def encode_messages(messages: Iterable[tuple[int, int, bytes]]) -> bytes:
    """``(msgId, product, body)`` triples as an opcode-3 payload (tests and tools)."""
    return b"".join(
        _MESSAGE_HEAD.pack(msg_id, product, len(body)) + body for msg_id, product, body in messages
    )


# --- bodies and decryption ----------------------------------------------------------------


def aes_key(push_key: str) -> bytes:
    """Key (and IV): the first 16 bytes of the UTF-8 pushKey text, right-padded with
    0x00 (3.7.6). Not hex-decoded."""
    return push_key.encode("utf-8")[:16].ljust(16, b"\0")


def encrypt_data(plaintext: bytes, push_key: str) -> str:
    """Base64 of AES-128-CBC/PKCS#7 (tests, tools: the inverse of decryption)."""
    key = aes_key(push_key)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def _b64decode(text: str) -> bytes:
    compact = "".join(text.split())
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise GarbageMessage("data is not base64") from None


def decrypt_data(data: str, push_key: str) -> bytes:
    """The plaintext of an encrypted ``data`` field. A ciphertext of impossible length
    is garbage; a padding error means the key is wrong (or the data corrupt)."""
    ciphertext = _b64decode(data)
    if not ciphertext or len(ciphertext) % 16:
        raise GarbageMessage("ciphertext length is not a multiple of 16")
    key = aes_key(push_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise DecryptFailed("bad padding after decryption") from None


def is_plain(encrypt: Any) -> bool:
    """``encrypt`` 0 or "0" means plain base64; anything else (or missing) is AES."""
    if isinstance(encrypt, bool):
        return not encrypt
    if isinstance(encrypt, int | float):
        return encrypt == 0
    return isinstance(encrypt, str) and encrypt.strip() == "0"


def decode_body(body: bytes, push_key: str) -> dict:
    """One message body -> the decrypted event object (3.7.6, 3.7.7).

    Raises ``GarbageMessage`` when the body is not ``{"data": <base64>, ...}`` or a
    plain body is not JSON, ``DecryptFailed`` when an encrypted body does not decrypt
    to a JSON object with this key.
    """
    try:
        envelope = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise GarbageMessage("message body is not JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), str):
        raise GarbageMessage("message body has no data string")
    plain = is_plain(envelope.get("encrypt"))
    if plain:
        plaintext = _b64decode(envelope["data"])
    else:
        plaintext = decrypt_data(envelope["data"], push_key)
    try:
        event = json.loads(plaintext.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        # Garbage after a successful unpad is what a wrong key gives 1 time in ~256.
        failure = GarbageMessage if plain else DecryptFailed
        raise failure("decrypted event is not JSON") from None
    if not isinstance(event, dict):
        raise (GarbageMessage if plain else DecryptFailed)("decrypted event is not an object")
    return event
