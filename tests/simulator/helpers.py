"""Plain-HTTP helpers for talking to the simulator like a vendor client would."""

from __future__ import annotations

import base64

import lz4.block
import requests

OWNER_QID = "1234123412"
OWNER_SID = "4a20145c62428d31b52b53c9ccbfcee4"
OWNER_PUSH_KEY = "a1b2c3d4e5f60718a1b2c3d4e5f60718"
# The byte-exact method 1 cookie of cloud-apis.md 3.3.1.
OWNER_COOKIE = f"q=u=&t=1;t=&v=2.0&a=1; qid={OWNER_QID}; sid={OWNER_SID}"
QT_QID = "2000000002"
QT_Q = "u=360H2000000002&n=demo&qid=2000000002&t=1"
QT_T = "s=simT2000000002&t=1&v=2.0&a=1"
QT_COOKIE = f"q={QT_Q};t={QT_T};qid={QT_QID}"

S7 = "361TY000003000000"
S5 = "360TY000001000001"
S9 = "361TY000009000009"
X95 = "360TY000100000100"


def session() -> requests.Session:
    """A session that never goes through a proxy: the simulator is on loopback."""
    s = requests.Session()
    s.trust_env = False
    return s


class Vendor360:
    """POSTs form-encoded requests with a raw Cookie header, as the product does."""

    def __init__(self, url: str, cookie: str | None):
        self.url = url
        self.cookie = cookie
        self.http = session()

    def post(self, path: str, cookie: str | None = None, timeout: float = 10, **fields):
        headers = {}
        cookie = self.cookie if cookie is None else cookie
        if cookie:
            headers["Cookie"] = cookie
        fields.setdefault("devType", "3")
        return self.http.post(self.url + path, data=fields, headers=headers, timeout=timeout)

    def call(self, path: str, **fields) -> dict:
        response = self.post(path, **fields)
        assert response.status_code == 200, response.text
        return response.json()

    def data(self, path: str, **fields):
        body = self.call(path, **fields)
        assert body["errno"] == 0, body
        return body["data"]

    def send(self, sn: str, info_type: int, data: str = "", taskid: str = "task-1") -> dict:
        return self.call(
            "/clean/cmd/send", sn=sn, infoType=str(info_type), data=data, taskid=taskid
        )

    def records(self, sn: str, **fields) -> list[dict]:
        return self.data("/clean/record/getList", sn=sn, **fields)["list"]


def decode_grid(record: dict) -> bytes:
    """cloud-apis.md 3.5.6 steps 1-2: Base64, then an LZ4 block of width x height."""
    assert len(record["map"]) == record["base64_len"]
    block = base64.b64decode(record["map"])
    assert len(block) == record["lz4_len"]
    size = record["width"] * record["height"]
    grid = lz4.block.decompress(block, uncompressed_size=size)
    assert len(grid) == size
    return grid


def all_records(client: Vendor360, sn: str, page_size: int = 100) -> list[dict]:
    """Page through getList by lastId until a short page (3.5.5)."""
    seen, last_id = [], ""
    while True:
        page = client.records(sn, lastId=last_id, pageSize=str(page_size))
        seen.extend(page)
        if len(page) < page_size:
            return seen
        last_id = page[-1]["cleanId"]
