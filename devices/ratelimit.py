"""Token buckets kept in the database (work on SQLite and Postgres, across processes).

Used for the per-device command rate limit and for each account's hourly vendor request
budget. One short transaction per call; the row is locked for the read-modify-write.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from devices.machines import RateBucket


def take(key: str, *, capacity: float, per_second: float, cost: float = 1.0) -> bool:
    """Take `cost` tokens from the bucket `key` (refilled at `per_second` up to `capacity`).
    Returns False, taking nothing, when there are not enough."""
    now = timezone.now()
    with transaction.atomic():
        bucket = RateBucket.objects.select_for_update().filter(key=key).first()
        if bucket is None:
            bucket, _ = RateBucket.objects.get_or_create(
                key=key, defaults={"tokens": capacity, "updated_at": now}
            )
            bucket = RateBucket.objects.select_for_update().get(pk=bucket.pk)
        elapsed = max(0.0, (now - bucket.updated_at).total_seconds())
        tokens = min(capacity, bucket.tokens + elapsed * per_second)
        allowed = tokens >= cost
        bucket.tokens = tokens - cost if allowed else tokens
        bucket.updated_at = now
        bucket.save(update_fields=["tokens", "updated_at"])
    return allowed


def available(key: str, *, capacity: float, per_second: float) -> float:
    """Tokens in the bucket now (read only)."""
    bucket = RateBucket.objects.filter(key=key).first()
    if bucket is None:
        return capacity
    elapsed = max(0.0, (timezone.now() - bucket.updated_at).total_seconds())
    return min(capacity, bucket.tokens + elapsed * per_second)
