"""config.cache: Django's Redis cache with one client reused per pool — the same answers as
Django's own, from many threads at once, and the same refusal when Redis is unreachable."""

import threading

import pytest
from django.conf import settings

from config.cache import ReusingRedisCache

needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (a real Redis)")


def cache_at(location: str) -> ReusingRedisCache:
    options = {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}}
    return ReusingRedisCache(location, {"KEY_PREFIX": "test-cache-client", **options})


@needs_redis
def test_one_client_serves_every_operation_and_thread():
    cache = cache_at(settings.REDIS_URL)
    cache.set("k", {"a": 1}, 30)
    client = cache._cache.get_client("k")
    assert cache._cache.get_client("other", write=True) is client
    assert cache.get("k") == {"a": 1}

    errors = []

    def hammer(n):
        try:
            for i in range(200):
                cache.set(f"t{n}", i, 30)
                assert cache.get(f"t{n}") == i
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cache.get_many([f"t{n}" for n in range(8)]) == {f"t{n}": 199 for n in range(8)}
    cache.delete_many(["k", *(f"t{n}" for n in range(8))])
    assert cache.get("k") is None


def test_an_unreachable_redis_still_raises():
    cache = cache_at("redis://127.0.0.1:1/4")  # nothing listens on port 1
    for _ in range(2):  # the reused client fails as a new one would, each time
        with pytest.raises(Exception, match="(?i)connect"):
            cache.get("k")
