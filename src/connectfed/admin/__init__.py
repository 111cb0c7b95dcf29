"""The admin API for tests: time travel and fault injection, under ``/_connectfed/``.

``access`` decides whether the API is on and who may use it; ``timetravel`` (the shared clock
offset) and ``faults`` (injected errors, latency, drops) are the domain, typed and free of HTTP;
``gate`` is their seam into the dispatchers (``wire.faults``), ``edge`` the ASGI middleware
serving the routes and applying latency and drops, ``shapes`` the JSON of the routes, and
``bundle`` what the composition root builds. Must not import ``app`` or ``cli``.
"""
