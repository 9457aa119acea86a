"""A partner's DCI callback receiver, run as its own process by tests: it appends every
callback posted to it (one JSON line: the body as received) to a log file and answers the
standard's ACK. `POST /_control {"fail": n, "delay": seconds}` makes it answer the next n
callbacks 503 (logged all the same), and wait `delay` seconds before each answer.

    python -m tests.support.callback_receiver LOG_FILE   (prints the port it listens on)
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_lock = threading.Lock()
_state = {"fail": 0, "delay": 0.0}


class Receiver(BaseHTTPRequestHandler):
    log_file = ""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/_control":
            with _lock:
                _state.update(json.loads(body))
            self._answer(200, {})
            return
        with _lock:
            failing = _state["fail"] > 0
            if failing:
                _state["fail"] -= 1
            delay = float(_state["delay"])
            with open(self.log_file, "a", encoding="utf-8") as log:
                log.write(json.dumps({"path": self.path, "failed": failing, "body": body.decode()}))
                log.write("\n")
        time.sleep(delay)
        if failing:
            self._answer(503, {"errors": [{"code": "err.service.unavailable", "message": "down"}]})
            return
        now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        ack = {"ack_status": "ACK", "timestamp": now, "correlation_id": str(uuid.uuid4())}
        self._answer(200, {"message": ack})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        content = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(ThreadingHTTPServer):
    # The registry's worker sends its due callbacks at once: the default backlog of 5
    # connections reset the rest on a loaded machine (a receiver that drops callbacks).
    request_queue_size = 128


def main() -> None:
    Receiver.log_file = sys.argv[1]
    server = Server(("127.0.0.1", 0), Receiver)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
