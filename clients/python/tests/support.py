"""What the end-to-end tests need: a real ``npm run dev`` on free ports with its own local state,
a fresh organization, store and key per test (the admin API), and a fault-injecting proxy."""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, List, Optional
from urllib.parse import urlsplit

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
START_LIMIT_SECONDS = 180


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dev_var(name: str) -> str:
    """A secret of the dev server: .dev.vars (npm run dev creates it from the example)."""
    for file in (".dev.vars", ".dev.vars.example"):
        path = os.path.join(ROOT, file)
        if os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                m = re.search(rf'^\s*{name}\s*=\s*"?(.*?)"?\s*$', f.read(), re.M)
            if m:
                return m.group(1)
    raise RuntimeError(f"{name} is in neither .dev.vars nor .dev.vars.example")


class DevServer:
    """``node scripts/dev.mjs --port P --inspector-port Q --persist-to <tmp>``; stopped with SIGTERM
    (scripts/dev.mjs then stops wrangler's whole process group), SIGKILL if it lingers."""

    def __init__(self) -> None:
        try:
            self._start()
        except RuntimeError as err:
            # Preparing the local databases can fail once under load (SQLITE_BUSY), as the Node
            # tests' helper also sees: a second start with a new state directory.
            print(f"retrying npm run dev once: {str(err)[-500:]}", file=sys.stderr)
            self._start()

    def _start(self) -> None:
        self.state = tempfile.mkdtemp(prefix="unified-sync-py-")
        self.log = open(os.path.join(self.state, "dev.log"), "w+b")
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH")
        port = free_port()
        args = [node, "scripts/dev.mjs", "--port", str(port), "--inspector-port", str(free_port()), "--persist-to", self.state]
        # Its own process group: what scripts/dev.mjs starts while it prepares the local databases
        # is not stopped by it when it fails or is stopped then; stop() ends the whole group.
        self.process = subprocess.Popen(
            args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_LIMIT_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=5) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.25)
        output = self.output()
        self.stop()
        raise RuntimeError(f"npm run dev did not answer /health on {self.base}:\n{output}")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")[-5000:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait()
        self.log.close()
        shutil.rmtree(self.state, ignore_errors=True)


@dataclass
class Tenant:
    org: str
    store: str
    key: str


def _admin(base: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {dev_var('ADMIN_TOKEN')}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as r:
        if r.status != 201:
            raise RuntimeError(f"{path}: {r.status}")
        return json.loads(r.read())


def new_tenant(base: str, label: str) -> Tenant:
    """A new organization with one vector store and an API key (its own rate-limit bucket)."""
    org = f"org_py_{label}_{secrets.token_hex(4)}"
    store = _admin(base, "/v1/admin/vector-stores", {"organization_id": org})["id"]
    key = _admin(base, "/v1/admin/api-keys", {"organization_id": org})["api_key"]
    return Tenant(org, store, key)


@dataclass
class Entry:
    n: Optional[int]
    method: str
    path: str
    key: Optional[str]
    fault: str
    status: Optional[int] = None
    replayed: bool = False


#: What the proxy does with sync request number n (from 1): "pass", "lose-answer" (forwarded and
#: applied, then the connection is cut: the client sees a network error), or an answer
#: (status, headers) it gives itself without forwarding.
Plan = Callable[[int], object]

HOP_BY_HOP = {"host", "connection", "content-length", "transfer-encoding", "keep-alive", "accept-encoding"}


class FaultProxy:
    """A proxy on 127.0.0.1 in front of the dev server: sync POSTs go through ``plan``."""

    def __init__(self, target: str, plan: Plan) -> None:
        self.plan = plan
        self.log: List[Entry] = []
        self._count = 0
        self._lock = threading.Lock()
        target_host = urlsplit(target)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                is_sync = self.command == "POST" and self.path.endswith("/pipeline/sync")
                with proxy._lock:
                    n = None
                    if is_sync:
                        proxy._count += 1
                        n = proxy._count
                fault = proxy.plan(n) if n is not None else "pass"
                entry = Entry(n, self.command, self.path, self.headers.get("Idempotency-Key"), fault if isinstance(fault, str) else "answer")
                proxy.log.append(entry)
                if isinstance(fault, tuple):
                    status, headers = fault
                    payload = json.dumps({"success": False, "error": {"code": "UPSTREAM_UNAVAILABLE", "message": "injected by the test proxy"}}).encode()
                    entry.status = status
                    self.send_response(status)
                    for k, v in {"Content-Type": "application/json", "Content-Length": str(len(payload)), **headers}.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                conn = http.client.HTTPConnection(target_host.hostname, target_host.port, timeout=300)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                upstream = conn.getresponse()
                answer = upstream.read()
                entry.status = upstream.status
                entry.replayed = upstream.getheader("Idempotent-Replayed") == "true"
                conn.close()
                if fault == "lose-answer":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.send_response(upstream.status)
                for k, v in upstream.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding":
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            do_GET = do_POST = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def syncs(self) -> List[Entry]:
        return [e for e in self.log if e.n is not None]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
