"""Django's Redis cache, keeping one client per connection pool.

``django.core.cache.backends.redis.RedisCacheClient.get_client`` builds a new ``redis.Redis``
for every operation; its constructor was about 40 % of each cache read in the door's profiles
(docs/benchmarks.md, issue 13), and every signed-in request reads two keys (its session and
its account) and a scan one or two more (venue, device, binding). A ``redis.Redis`` is safe to
share between threads — each command takes a connection from the pool and gives it back — so
one per pool is kept and reused. Everything else is Django's.
"""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        self._lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._lock:  # one pool and one client per server, whichever thread is first
                client = self._clients.get(index)
                if client is None:
                    if index not in self._pools:  # as Django's _get_connection_pool
                        self._pools[index] = self._pool_class.from_url(
                            self._servers[index], **self._pool_options
                        )
                    client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class ReusingRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
