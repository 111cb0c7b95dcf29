"""HTTP proxies as botocore finds them in the environment: ``<scheme>_proxy`` for the endpoint's
scheme (lower case before upper case; ``HTTP_PROXY`` ignored under CGI, where a request's
``Proxy:`` header sets it), bypassed for the hosts ``no_proxy`` lists (urllib's rules, which
botocore's ``should_bypass_proxies`` applies). A proxy URL without a scheme is ``http://``; its
user and password, if any, go to the proxy as ``Proxy-Authorization: Basic``.

An ``https`` endpoint is reached through a ``CONNECT`` tunnel, an ``http`` one by sending the
request to the proxy with the absolute URL as its target (urllib3's two ways). Only proxies
spoken to in clear text (``http://``) are supported.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import unquote, urlsplit


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy to send ``url``'s requests through, or None."""
    scheme = urlsplit(url).scheme
    found: dict[str, str] = {}
    for name, value in env.items():  # urllib's getproxies_environment over ``env``
        lowered = name.lower()
        if value and lowered.endswith("_proxy"):
            found[lowered[:-6]] = value
    if "REQUEST_METHOD" in env:
        found.pop("http", None)
    for name, value in env.items():
        if name.endswith("_proxy"):
            if value:
                found[name.lower()[:-6]] = value
            else:
                found.pop(name.lower()[:-6], None)
    proxy = found.get(scheme)
    if not proxy:
        return None
    if "no" in found and _bypassed(urlsplit(url).netloc, found["no"]):
        return None
    if proxy.startswith(("http:", "https:")):
        return proxy
    return "http:" + proxy if proxy.startswith("//") else "http://" + proxy


def _bypassed(netloc: str, no_proxy: str) -> bool:
    """urllib's proxy_bypass_environment: ``*``, or an entry equal to the host (with or
    without its port) or a DNS suffix of it (a leading dot ignored), case-insensitively."""
    if no_proxy == "*":
        return True
    host = netloc.lower()
    hostonly = host.rsplit(":", 1)[0] if host.rsplit(":", 1)[-1].isdigit() else host
    for entry in no_proxy.split(","):
        name = entry.strip().lstrip(".").lower()
        if not name:
            continue
        if name in (hostonly, host) or hostonly.endswith("." + name) or host.endswith("." + name):
            return True
    return False


def proxy_headers(proxy: str) -> dict[str, str]:
    parts = urlsplit(proxy)
    if parts.username is None or parts.password is None:
        return {}
    from base64 import b64encode

    pair = f"{unquote(parts.username)}:{unquote(parts.password)}"
    return {"Proxy-Authorization": "Basic " + b64encode(pair.encode()).decode()}


def proxy_address(proxy: str) -> tuple[str, int]:
    parts = urlsplit(proxy)
    if parts.scheme != "http":
        raise ValueError(f"only http:// proxies are supported: {parts.scheme}://")
    return parts.hostname or "", parts.port or 80


def tunnel_request(host: str, port: int, proxy: str) -> bytes:
    """The ``CONNECT`` request that opens a tunnel to ``host:port``."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
    lines += [f"{name}: {value}" for name, value in proxy_headers(proxy).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def tunnel_status(head: bytes) -> int:
    """The status of a proxy's answer to ``CONNECT``; ValueError if it is not HTTP."""
    words = head.split(b"\r\n", 1)[0].split(b" ", 2)
    if len(words) < 2 or not words[0].startswith(b"HTTP/"):
        raise ValueError("not an HTTP answer")
    return int(words[1])
