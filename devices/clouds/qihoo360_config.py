"""360 static configuration JSON on ``QIHOO360_CONFIG_URL`` (cloud-apis.md 3.5.11-3.5.12).

No authentication and no account: the service fetches these once a day (cache 24 h;
on failure keep the previous copy) and shares them between accounts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from ._coerce import as_str, as_text
from .base import ErrorText
from .redact import Redactor
from .transport import HttpTransport, normalise_base_url, outage_or_garbage

DEFAULT_CONFIG_URL = "https://smart.360.cn"

_TITLE_KEYS = ("title", "name", "msg", "desc", "content")
_ALIAS_KEYS = ("name", "alias", "title")


@dataclass(frozen=True)
class ErrorCatalogue:
    """``errorInfo_<lang>.json``: decimal code (as a string) -> text or object."""

    entries: Mapping[str, Any] = field(default_factory=dict)

    def lookup(self, code: int | str) -> ErrorText:
        """3.5.11: a string value is the text; an object gives the first string among
        title/name/msg/desc/content, the other strings become the detail; else
        "Error <code>"."""
        key = str(code).strip()
        value = self.entries.get(key)
        if isinstance(value, str) and value.strip():
            return ErrorText(code=code, title=value)
        if isinstance(value, dict):
            texts = [t for t in (as_text(value.get(k)) for k in _TITLE_KEYS) if t]
            if texts:
                detail = " ".join(texts[1:]) or None
                return ErrorText(code=code, title=texts[0], detail=detail)
        return ErrorText(code=code, title=f"Error {key}")


@dataclass(frozen=True)
class ModelAliases:
    """``modelalias.json``: hardware -> {name/alias/title, flags}."""

    entries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def display_name(self, hardware: str | None) -> str:
        """3.5.12: first of name, alias, title; otherwise the hardware code as is."""
        if not hardware:
            return ""
        entry = self.entries.get(hardware, {})
        for key in _ALIAS_KEYS:
            text = as_text(entry.get(key))
            if text:
                return text
        return hardware


def parse_error_catalogue(body: Any) -> ErrorCatalogue:
    if not isinstance(body, dict):
        return ErrorCatalogue()
    return ErrorCatalogue({str(k).strip(): v for k, v in body.items()})


def parse_model_aliases(body: Any) -> ModelAliases:
    if not isinstance(body, dict):
        return ModelAliases()
    entries = {
        str(model): {str(k): v for k, v in value.items() if as_str(v) is not None}
        for model, value in body.items()
        if isinstance(value, dict)
    }
    return ModelAliases(entries)


class Qihoo360ConfigClient:
    """GETs of the static JSON files (reads: one retry on connection errors)."""

    def __init__(
        self,
        session: requests.Session,
        *,
        timeout: tuple[float, float],
        config_url: str = DEFAULT_CONFIG_URL,
        retry_pause: float = 1.5,
    ):
        self._base = normalise_base_url(config_url)
        self._http = HttpTransport(
            session,
            timeout=timeout,
            retry_pause=retry_pause,
            redactor=Redactor(),
            vendor="360 Smart cloud",
        )

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    def get_error_catalogue(self, *, lang_suffix: str = "us") -> ErrorCatalogue:
        # 3.5.11: GET /clean/errorInfo_us.json (other language suffixes exist).
        if not lang_suffix.isalnum():
            raise ValueError("lang_suffix must be letters or digits, e.g. 'us'")
        return parse_error_catalogue(self._get_object(f"/clean/errorInfo_{lang_suffix}.json"))

    def get_model_aliases(self) -> ModelAliases:
        # 3.5.12: GET /clean/modelalias.json
        return parse_model_aliases(self._get_object("/clean/modelalias.json"))

    def _get_object(self, path: str) -> dict:
        response = self._http.send(
            "GET", self._base + path, read=True, retry_when=outage_or_garbage
        )
        self._http.raise_for_throttle_or_outage(response)
        if response.status_code != 200:
            raise self._http.bad_response(
                f"HTTP {response.status_code} on {path}", response.text, transient=False
            )
        body = self._http.parse_json(response)
        if not isinstance(body, dict):
            raise self._http.bad_shape(f"{path} is not a JSON object", body)
        return body
