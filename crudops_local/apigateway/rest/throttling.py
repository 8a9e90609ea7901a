"""The stage's request throttling (`AWS::ApiGateway::Stage` `MethodSettings`):
`ThrottlingRateLimit` requests per second with `ThrottlingBurstLimit` at once, per
method, answered `THROTTLED` (429) before the authorizer and the integration.

API Gateway keeps a token bucket per method (the stage's `*/*` setting is the default
of every method; a method's own setting, keyed `/<resource path>/<HTTP method>` with
`/` in the path written `~1`, replaces it). Locally each method's bucket is a
pyrate-limiter sliding window of `burst` requests per `burst / rate` seconds: the
same burst and the same long-run rate, though after a burst it lets requests through
as the window slides instead of at the refill rate. A limit of 0 refuses everything.
Account-level limits (10,000 rps) and usage plans are not modelled.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final

from pyrate_limiter import Limiter, Rate

ALL_METHODS: Final = "*"
ALL_RESOURCES: Final = "/*"


@dataclass(frozen=True)
class ThrottleSetting:
    rate_per_second: float
    burst: int

    def limiter(self) -> Limiter | None:
        """A limiter for one method; None when the setting refuses every request."""
        if self.rate_per_second <= 0 or self.burst <= 0:
            return None
        window_ms = max(1, round(self.burst * 1000 / self.rate_per_second))
        return Limiter(Rate(self.burst, window_ms))


def _method_key(resource_path: str, http_method: str) -> str:
    return f"{resource_path}/{http_method.upper()}"


def _escaped(resource_path: str) -> str:
    """A method setting's path spelling: `/items/{id}` → `/~1items~1{id}`."""
    return "/" + resource_path.replace("/", "~1")


class StageThrottle:
    """The stage's throttling: which setting each method has, and its bucket."""

    def __init__(self, default: ThrottleSetting | None,
                 per_method: dict[str, ThrottleSetting]) -> None:
        self._default = default
        # "/~1items/GET" → its own setting
        self._per_method = per_method
        self._limiters: dict[str, Limiter | None] = {}
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        return self._default is not None or bool(self._per_method)

    def setting_for(self, resource_path: str, http_method: str) -> ThrottleSetting | None:
        key = _method_key(_escaped(resource_path), http_method)
        return self._per_method.get(key, self._default)

    def admit(self, resource_path: str, http_method: str) -> bool:
        """Whether one request of the method is let through now (takes a permit)."""
        setting = self.setting_for(resource_path, http_method)
        if setting is None:
            return True
        key = _method_key(resource_path, http_method)
        with self._lock:
            if key not in self._limiters:
                self._limiters[key] = setting.limiter()
            limiter = self._limiters[key]
        if limiter is None:
            return False
        return bool(limiter.try_acquire(key, blocking=False))


def _setting(entry: dict[str, Any], inherited: ThrottleSetting | None) -> ThrottleSetting | None:
    rate = entry.get("ThrottlingRateLimit")
    burst = entry.get("ThrottlingBurstLimit")
    if rate is None and burst is None:
        return inherited
    return ThrottleSetting(
        rate_per_second=float(rate if rate is not None else
                              (inherited.rate_per_second if inherited else 10_000)),
        burst=int(burst if burst is not None else (inherited.burst if inherited else 5_000)))


def stage_throttle(stage_properties: dict[str, Any]) -> StageThrottle:
    """The throttling of a stage from its resolved properties."""
    settings = list(stage_properties.get("MethodSettings") or [])
    default: ThrottleSetting | None = None
    for entry in settings:
        if (entry.get("HttpMethod") == ALL_METHODS
                and entry.get("ResourcePath") == ALL_RESOURCES):
            default = _setting(entry, None)
    per_method: dict[str, ThrottleSetting] = {}
    for entry in settings:
        if entry.get("HttpMethod") == ALL_METHODS and entry.get("ResourcePath") == ALL_RESOURCES:
            continue
        setting = _setting(entry, default)
        if setting is not None:
            per_method[_method_key(str(entry.get("ResourcePath")),
                                   str(entry.get("HttpMethod")))] = setting
    return StageThrottle(default, per_method)
