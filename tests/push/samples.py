"""Recorded shapes of the 360 push channel (cloud-apis.md 3.7), built independently of
the client's own encoder: frames are packed with ``struct`` here and encrypted with
``cryptography`` directly, so a bug shared by encoder and decoder cannot hide."""

from __future__ import annotations

import base64
import json
import socket
import struct
import time

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SEED_PUSH_KEY = "a1b2c3d4e5f60718a1b2c3d4e5f60718"  # account "sid" (5.3.1)
OWNER_QID = "1234123412"
OWNER_SID = "4a20145c62428d31b52b53c9ccbfcee4"
QT_QID = "2000000002"
QT_COOKIE_Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
QT_COOKIE_T = "s=simT2000000002&t=1&v=2.0&a=1"
S7 = "361TY000003000000"
X95 = "360TY000100000100"
PRODUCT = 60009

# The published decrypted status push of a 360 S7 (3.7.7), byte for byte.
SAMPLE_EVENT_TEXT = (
    r'{"createTime":"1703612364","event":4,"sn":"361TY000003000000","taskid":"170361236423'
    r'4672","data":"{\"message\":\"ok\",\"infoType\":20001,\"data\":{\"allArea\":5943,\"al'
    r"lTime\":445962,\"autoBoost\":0,\"cleanArea\":3,\"cleanId\":\"361TY000003000000-17036"
    r"12364\",\"cleanTime\":50,\"elec\":89,\"elecReal\":89,\"errorState\":[0],\"errorTime\""
    r":0,\"lastSubMode\":\"total\",\"led\":0,\"mode\":\"charge\",\"mopStatus\":0,\"phi\":-"
    r"1953,\"pos\":[540,-483],\"reliable\":1,\"showSmartArea\":0,\"showSweepArea\":0,\"sof"
    r"t\":1,\"subMode\":\"null\",\"timeStamp\":1703612364,\"timerStatus\":10,\"vol\":9,\"w"
    r'indPower\":0,\"workNoisy\":\"quiet\"}}"}'
)
SAMPLE_EVENT = json.loads(SAMPLE_EVENT_TEXT)


def aes_encrypt(plaintext: bytes, key_text: str) -> str:
    """AES-128-CBC/PKCS#7, key = IV = first 16 UTF-8 bytes of the key text (3.7.6)."""
    key = key_text.encode("utf-8")[:16].ljust(16, b"\0")
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key)).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def encrypted_body(event_text: str, key_text: str = SEED_PUSH_KEY, encrypt=1) -> bytes:
    data = aes_encrypt(event_text.encode("utf-8"), key_text)
    return json.dumps({"data": data, "encrypt": encrypt}).encode()


def plain_body(event_text: str, encrypt=0) -> bytes:
    data = base64.b64encode(event_text.encode("utf-8")).decode()
    return json.dumps({"data": data, "encrypt": encrypt}).encode()


def message(msg_id: int, body: bytes, product: int = PRODUCT) -> bytes:
    return struct.pack(">QII", msg_id, product, len(body)) + body


def message_frame(*messages: bytes, ack: str | None = "7", extra: int = 0) -> bytes:
    """Opcode 3 with ``ack:<token>``; ``extra`` stray bytes counted in payloadLen."""
    props = f"ack:{ack}".encode() if ack is not None else b""
    payload = b"".join(messages) + b"\0" * extra
    return struct.pack(">HHH", 5, 3, len(props)) + props + struct.pack(">I", len(payload)) + payload


def bind_ack(result: str = "0") -> bytes:
    props = f"id:60009\nr:{result}".encode()
    return struct.pack(">HHH", 5, 6, len(props)) + props


def status_event(data: dict, *, taskid: str = "1703612364234672", info_type=20001, message="ok",
                 sn: str = S7) -> str:  # fmt: skip
    inner = json.dumps({"message": message, "infoType": info_type, "data": data})
    event = {"createTime": "1703612364", "event": 4, "sn": sn, "taskid": taskid, "data": inner}
    return json.dumps(event)


class FakePushServer:
    """A loopback listener the test scripts by hand (one client)."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(5)
        self.address = ("127.0.0.1", self.listener.getsockname()[1])
        self.peer: socket.socket | None = None
        self.received = bytearray()

    def accept(self) -> socket.socket:
        self.peer, _ = self.listener.accept()
        self.peer.settimeout(5)
        return self.peer

    def send(self, data: bytes) -> None:
        assert self.peer is not None
        self.peer.sendall(data)

    def read(self, count: int, timeout: float = 5) -> bytes:
        """Exactly ``count`` more bytes from the client."""
        assert self.peer is not None
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            self.peer.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.peer.recv(65536)
            if not chunk:
                raise ConnectionError("client closed")
            self.received += chunk
        data = bytes(self.received[:count])
        del self.received[:count]
        return data

    def nothing_more(self, wait: float = 0.3) -> bool:
        assert self.peer is not None
        self.peer.settimeout(wait)
        try:
            chunk = self.peer.recv(65536)
        except TimeoutError:
            return not self.received
        self.received += chunk
        return False

    def close(self) -> None:
        for sock in (self.peer, self.listener):
            if sock is not None:
                sock.close()
