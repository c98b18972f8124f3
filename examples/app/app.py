"""Seaworthy's example service: a tiny JSON web service using only the Python standard library.

Endpoints:
  GET /          a greeting (JSON)
  GET /healthz   {"status": "ok"} for health checks
Settings come from the environment: PORT (default 8080) and GREETING (default "Hello").
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger("example-app")


def greeting() -> str:
    return os.environ.get("GREETING", "Hello")


class Handler(BaseHTTPRequestHandler):
    server_version = "seaworthy-example/1.0"
    sys_version = ""

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._send_json(HTTPStatus.OK, {"status": "ok"})
        elif path == "/":
            self._send_json(HTTPStatus.OK, {"message": f"{greeting()} from the Seaworthy example app"})
        else:
            self._send_json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def _send_json(self, status: HTTPStatus, body: dict[str, str]) -> None:
        payload = json.dumps(body, sort_keys=True).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:
        LOG.info("%s %s", self.address_string(), format % args)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    port = int(os.environ.get("PORT", "8080"))
    server = ThreadingHTTPServer(("", port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: server.shutdown())
    LOG.info("listening on port %d", port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
