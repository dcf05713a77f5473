#!/usr/bin/env python3
"""A tiny service for the vz-monitor Prometheus demo.

Serves /metrics in Prometheus text format: http_requests_total{code} and an
http_request_duration_seconds histogram, accruing simulated traffic (100 req/s) at each
scrape. Switches:
  GET /bad            30 % errors, ~500 ms latency (a bad deploy)
  GET /good           0 % errors, ~50 ms latency
  GET /errors?pct=N   error percentage
  GET /latency?ms=N   typical latency (each scrape jitters it by +-40 %)

usage: demo_service.py [--port 18080]
"""
import argparse, random, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

RPS = 100.0
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0]

lock = threading.Lock()
state = {"error_pct": 0.0, "latency_ms": 50.0}
traffic = {"last": time.monotonic(), "ok": 0.0, "err": 0.0,
           "buckets": [0.0] * len(BUCKETS), "sum": 0.0, "count": 0.0}


def accrue():
    now = time.monotonic()
    n = RPS * (now - traffic["last"])
    traffic["last"] = now
    errors = n * state["error_pct"] / 100.0
    traffic["err"] += errors
    traffic["ok"] += n - errors
    latency = state["latency_ms"] / 1000.0 * random.uniform(0.6, 1.4)
    for i, le in enumerate(BUCKETS):
        if latency <= le:
            traffic["buckets"][i] += n
    traffic["sum"] += n * latency
    traffic["count"] += n


def exposition():
    t = traffic
    out = ["# HELP http_requests_total Requests served.",
           "# TYPE http_requests_total counter",
           f'http_requests_total{{code="200"}} {t["ok"]}']
    if t["err"] > 0:  # like a client library: the 5xx series appears with the first error
        out.append(f'http_requests_total{{code="500"}} {t["err"]}')
    out += ["# HELP http_request_duration_seconds Request latency.",
            "# TYPE http_request_duration_seconds histogram"]
    out += [f'http_request_duration_seconds_bucket{{le="{le}"}} {v}'
            for le, v in zip(BUCKETS, t["buckets"])]
    out += [f'http_request_duration_seconds_bucket{{le="+Inf"}} {t["count"]}',
            f'http_request_duration_seconds_sum {t["sum"]}',
            f'http_request_duration_seconds_count {t["count"]}']
    return "\n".join(out) + "\n"


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        url = urlparse(self.path)
        q = parse_qs(url.query)
        with lock:
            if url.path == "/metrics":
                accrue()
                return self.reply(exposition(), "text/plain; version=0.0.4")
            accrue()  # close the books at the old setting before switching
            if url.path == "/bad":
                state.update(error_pct=30.0, latency_ms=500.0)
            elif url.path == "/good":
                state.update(error_pct=0.0, latency_ms=50.0)
            elif url.path == "/errors" and "pct" in q:
                state["error_pct"] = float(q["pct"][0])
            elif url.path == "/latency" and "ms" in q:
                state["latency_ms"] = float(q["ms"][0])
            elif url.path != "/":
                return self.reply("not found\n", "text/plain", 404)
            return self.reply(f"errors {state['error_pct']}%, latency {state['latency_ms']} ms\n",
                              "text/plain")

    def reply(self, body, ctype, code=200):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=18080)
    a = ap.parse_args()
    ThreadingHTTPServer(("127.0.0.1", a.port), Handler).serve_forever()
