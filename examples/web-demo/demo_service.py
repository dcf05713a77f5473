#!/usr/bin/env python3
"""A demo metrics API for examples/web-demo: JSON over HTTP behind an API key, the shape of
many SaaS metric APIs. Its error rate and p95 latency switch from good to bad with
GET /switch/bad (and back with /switch/good); every value at every second is derived from
the mode at that second, so a range over the past is answered at once.

  GET /api/v1/metrics?name=error_rate|p95_latency_ms&from=S&to=E[&step=N]
      header X-Api-Key: $DEMO_API_KEY
      -> {"metric": name, "points": [{"t": S, "v": value}, ...]}
  401 without the right key (the body echoes the key it got, as careless servers do).
"""
import argparse
import json
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

lock = threading.Lock()
switches = [(0, "good")]  # (unix second, mode) in order
KEY = ""


def mode_at(t):
    mode = "good"
    for since, m in switches:
        if t >= since:
            mode = m
    return mode


def value(name, t):
    jitter = (zlib.crc32(f"{name}{t}".encode()) % 1000) / 1000.0  # 0..1, fixed per second
    bad = mode_at(t) == "bad"
    if name == "error_rate":
        return round((20.0 if bad else 1.0) + jitter, 3)
    return round((300.0 if bad else 50.0) * (0.9 + 0.2 * jitter), 3)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        if path.startswith("/switch/"):
            with lock:
                switches.append((int(time.time()), path.rsplit("/", 1)[1]))
            self.reply(200, {"mode": path.rsplit("/", 1)[1]})
            return
        if path != "/api/v1/metrics":
            self.reply(404, {"error": "no such path"})
            return
        got = self.headers.get("X-Api-Key", "")
        if got != KEY:
            self.reply(401, {"error": "bad api key", "got": got})
            return
        name = args.get("name", "")
        if name not in ("error_rate", "p95_latency_ms"):
            self.reply(400, {"error": f"unknown metric {name!r}"})
            return
        now = int(time.time())
        start, end = int(args.get("from", now - 5)), min(int(args.get("to", now)), now)
        step = max(1, int(args.get("step", 1)))
        with lock:
            points = [{"t": t, "v": value(name, t)} for t in range(start, end + 1, step)]
        self.reply(200, {"metric": name, "points": points})


def main():
    global KEY
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=18181)
    p.add_argument("--key", required=True)
    a = p.parse_args()
    KEY = a.key
    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
