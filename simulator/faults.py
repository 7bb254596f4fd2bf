"""Fault rules for vendor endpoints (cloud-apis.md 5.2).

A rule matches requests (vendor, optional method, path glob, optional sn / deviceId /
account) and applies one action to the next ``count`` of them (``-1``: until removed).
Rules are checked in the order they were added. ``delay`` rules add up and the request is
then answered normally (or by the first matching non-delay rule), so a benchmark can
combine a permanent latency rule with one-off errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from http import HTTPStatus
from typing import Any

from simulator.interface import SimResponse

ACTIONS = (
    "errno",
    "errno_as_string",
    "error_code",
    "code",
    "http_status",
    "delay",
    "drop",
    "malformed",
    "shape",
)
MALFORMED_VARIANTS = ("truncated", "html", "empty", "array")
VENDORS = ("qihoo360", "mammotion")
MATCH_KEYS = {"sn": "sn", "deviceId": "deviceId", "device_id": "deviceId", "account": "account"}
ACTION_EXTRAS = {"errmsg", "msg", "retry_after", "body"}

# The 360 cloud's errmsg texts are unpublished; these read like the real ones.
ERRMSG = {
    102: "session expired",
    103: "login failed",
    205: "no permission",
    212: "device offline",
    9999: "param error",
}
TRUNCATED = {
    "qihoo360": b'{"errno":0,"errmsg":"Succeeded","data":{"list":[{"sn":"361TY0000',
    "mammotion": b'{"code":0,"msg":"Request success","data":{"records":[{"workId":"',
}
HTML_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body>"
    "<center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
)


class FaultError(ValueError):
    """A rule that cannot be added (the control API answers 400)."""


@dataclass
class FaultRule:
    id: int
    action: str
    value: Any
    vendor: str | None = None
    method: str | None = None
    path: str = "*"
    keys: dict[str, str] = field(default_factory=dict)  # sn / deviceId / account
    count: int = 1
    remaining: int = 1
    hits: int = 0
    extras: dict[str, Any] = field(default_factory=dict)

    def matches(self, vendor: str, method: str, path: str, keys: dict[str, str]) -> bool:
        if self.vendor is not None and self.vendor != vendor:
            return False
        if self.method is not None and self.method != method.upper():
            return False
        if not fnmatchcase(path, self.path):
            return False
        return all(str(keys.get(name, "")) == want for name, want in self.keys.items())

    def describe(self) -> dict:
        return {
            "id": self.id,
            "vendor": self.vendor,
            "method": self.method,
            "path": self.path,
            **self.keys,
            "count": self.count,
            "remaining": self.remaining,
            "hits": self.hits,
            "action": self.action,
            self.action: self.value,
            **self.extras,
        }


def parse_rule(rule_id: int, spec: dict) -> FaultRule:
    """Validate a rule as posted to ``POST /_sim/faults``."""
    if not isinstance(spec, dict):
        raise FaultError("a fault rule is a JSON object")
    actions = [name for name in ACTIONS if name in spec]
    if len(actions) != 1:
        raise FaultError(f"give exactly one action of {', '.join(ACTIONS)}")
    action = actions[0]
    known = {"vendor", "method", "path", "count", action} | set(MATCH_KEYS) | ACTION_EXTRAS
    unknown = sorted(set(spec) - known)
    if unknown:
        raise FaultError(f"unknown rule fields: {', '.join(unknown)}")
    vendor = spec.get("vendor")
    if vendor is not None and vendor not in VENDORS:
        raise FaultError(f"vendor must be one of {', '.join(VENDORS)}")
    count = spec.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count == 0 or count < -1:
        raise FaultError("count is a positive integer or -1 (until removed)")
    value = _check_value(action, spec[action])
    keys = {MATCH_KEYS[name]: str(spec[name]) for name in MATCH_KEYS if spec.get(name)}
    method = spec.get("method")
    return FaultRule(
        id=rule_id,
        action=action,
        value=value,
        vendor=vendor,
        method=method.upper() if method else None,
        path=spec.get("path") or "*",
        keys=keys,
        count=count,
        remaining=count,
        extras={name: spec[name] for name in ACTION_EXTRAS if name in spec},
    )


def _check_value(action: str, value: Any) -> Any:
    if action in ("errno", "errno_as_string", "error_code", "code"):
        try:
            return int(str(value).strip())
        except ValueError:
            raise FaultError(f"{action} needs an integer") from None
    if action == "http_status":
        if not isinstance(value, int) or not 100 <= value <= 599:
            raise FaultError("http_status needs an HTTP status code")
        return value
    if action == "delay":
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise FaultError("delay needs a number of seconds")
        return float(value)
    if action == "drop":
        return True
    if action == "malformed":
        variant = "truncated" if value is True else value
        if variant not in MALFORMED_VARIANTS:
            raise FaultError(f"malformed is one of {', '.join(MALFORMED_VARIANTS)}")
        return variant
    return value  # shape: any JSON value replaces data


@dataclass
class FaultDecision:
    """What the core does with one request: wait ``delay`` seconds, then drop it, answer
    with ``rule``'s canned response, or answer normally (with ``shape`` applied)."""

    delay: float = 0.0
    rule: FaultRule | None = None
    rule_ids: list[int] = field(default_factory=list)

    @property
    def drop(self) -> bool:
        return self.rule is not None and self.rule.action == "drop"

    @property
    def replaces_answer(self) -> bool:
        return self.rule is not None and self.rule.action not in ("drop", "shape")

    @property
    def shape(self) -> FaultRule | None:
        return self.rule if self.rule is not None and self.rule.action == "shape" else None


class FaultBook:
    """The active rules. Not thread-safe: the core calls it under its lock."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(self, spec: dict) -> FaultRule:
        rule = parse_rule(self._next_id, spec)
        self._next_id += 1
        self._rules.append(rule)
        return rule

    def list(self) -> list[dict]:
        return [rule.describe() for rule in self._rules]

    def clear(self) -> int:
        removed = len(self._rules)
        self._rules.clear()
        return removed

    def remove(self, rule_id: int) -> bool:
        before = len(self._rules)
        self._rules = [rule for rule in self._rules if rule.id != rule_id]
        return len(self._rules) != before

    def needs_keys(self, vendor: str) -> bool:
        return any(rule.keys and rule.vendor in (None, vendor) for rule in self._rules)

    def decide(self, vendor: str, method: str, path: str, keys: dict[str, str]) -> FaultDecision:
        decision = FaultDecision()
        for rule in list(self._rules):
            if not rule.matches(vendor, method, path, keys):
                continue
            if rule.action == "delay":
                decision.delay += rule.value
            elif decision.rule is None:
                decision.rule = rule
            else:
                continue
            self._consume(rule)
            decision.rule_ids.append(rule.id)
        return decision

    def _consume(self, rule: FaultRule) -> None:
        rule.hits += 1
        if rule.remaining > 0:
            rule.remaining -= 1
            if rule.remaining == 0:
                self._rules.remove(rule)


def canned_response(rule: FaultRule, vendor: str) -> SimResponse:
    """The answer of a rule that replaces the vendor's own (every action but delay, drop
    and shape). The request does not reach the vendor model."""
    action, value = rule.action, rule.value
    if action in ("errno", "errno_as_string"):
        errmsg = rule.extras.get("errmsg", ERRMSG.get(value, "error"))
        errno = str(value) if action == "errno_as_string" else value
        return SimResponse(body={"errno": errno, "errmsg": errmsg})
    if action == "error_code":
        errmsg = rule.extras.get("errmsg", "Succeeded")
        return SimResponse(body={"errno": 0, "errmsg": errmsg, "errorCode": value, "data": {}})
    if action == "code":
        return SimResponse(
            body={"code": value, "msg": rule.extras.get("msg", "error"), "data": None}
        )
    if action == "http_status":
        return _http_status_response(rule)
    return _malformed_response(value, vendor)


def _http_status_response(rule: FaultRule) -> SimResponse:
    status = rule.value
    headers = {}
    if "retry_after" in rule.extras:
        headers["Retry-After"] = str(rule.extras["retry_after"])
    if "body" not in rule.extras:
        phrase = _phrase(status)
        return SimResponse(status=status, body={"status": status, "error": phrase}, headers=headers)
    body = rule.extras["body"]
    if isinstance(body, str):
        kind = "text/html" if body.lstrip().startswith("<") else "text/plain"
        return SimResponse(status=status, body=body, headers=headers, content_type=kind)
    return SimResponse(status=status, body=body, headers=headers)


def _malformed_response(variant: str, vendor: str) -> SimResponse:
    if variant == "truncated":
        return SimResponse(body=TRUNCATED.get(vendor, TRUNCATED["qihoo360"]))
    if variant == "html":
        return SimResponse(body=HTML_PAGE, content_type="text/html; charset=utf-8")
    if variant == "empty":
        return SimResponse(body=b"")
    return SimResponse(body=[])  # a JSON array where an object belongs


def apply_shape(response: SimResponse, value: Any) -> SimResponse:
    """Replace ``data`` of a normal JSON answer; a non-object answer is replaced whole."""
    if isinstance(response.body, dict):
        response.body = {**response.body, "data": value}
    else:
        response.body = value
        response.content_type = "application/json"
    return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
