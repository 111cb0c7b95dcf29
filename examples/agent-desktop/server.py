"""A small agent desktop on its own origin, embedding connectfed's CCP with Streams' initCCP.

    python examples/agent-desktop/server.py --connectfed http://127.0.0.1:8000 \
        --instance-id <id> [--port 8100]

Serves index.html and app.js, ``/config.json`` (the CCP URL for initCCP), and ``/sign-in``: with
AWS credentials of the agent's role session in the environment (``aws sts assume-role
--role-session-name agent1 …`` exported), it calls GetFederationToken with boto3 and redirects to
the SignInUrl; Streams opens it in its login popup. Without credentials ``/sign-in`` sends the
agent to connectfed's test IdP (``serve --demo --test-idp``).
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import botocore.exceptions  # a dependency of connectfed; boto3 may be absent

HERE = Path(__file__).resolve().parent
FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
}


def make_handler(args: argparse.Namespace) -> type[BaseHTTPRequestHandler]:
    base = f"{args.connectfed}/connect/{args.instance_id}"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path in FILES:
                name, kind = FILES[path]
                body = (HERE / name).read_text().replace("{{CONNECTFED}}", args.connectfed)
                return self._send(200, kind, body.encode())
            if path == "/config.json":
                config = {
                    "ccpUrl": f"{base}/ccp-v2/",
                    "loginUrl": "/sign-in",
                    # Amazon Connect's logout URL (https://<alias>.my.connect.aws/connect/logout)
                    "logoutUrl": f"{args.connectfed}/connect/logout",
                    "region": args.region,
                }
                return self._send(200, "application/json", json.dumps(config).encode())
            if path == "/sign-in":
                return self._redirect(self._sign_in_url())
            return self._send(404, "text/plain", b"not found")

        def _sign_in_url(self) -> str:
            try:
                import boto3

                client = boto3.client(
                    "connect", endpoint_url=args.connectfed, region_name=args.region
                )
                result: dict[str, Any] = client.get_federation_token(InstanceId=args.instance_id)
                return f"{result['SignInUrl']}&destination={quote('/ccp-v2/', safe='')}"
            except (
                ImportError,
                botocore.exceptions.BotoCoreError,
                botocore.exceptions.ClientError,
            ) as exc:
                self.log_message("GetFederationToken failed (%s): using the test IdP", exc)
                return f"{args.connectfed}/idp"

        def _redirect(self, location: str) -> None:
            self.send_response(303)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _send(self, status: int, kind: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

    return Handler


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connectfed", default="http://127.0.0.1:8000")
    parser.add_argument("--instance-id", required=True)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    return parser.parse_args(argv)


def serve(args: argparse.Namespace) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((args.host, args.port), make_handler(args))


if __name__ == "__main__":
    arguments = parse()
    server = serve(arguments)
    print(f"agent desktop on http://{arguments.host}:{server.server_address[1]}/", flush=True)
    server.serve_forever()
