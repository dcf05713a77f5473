#!/usr/bin/env python3
"""A simulated service that pushes its own metrics every second, for the backend demos.

Each second it draws an error rate (%), a p95 latency (ms) and requests per status code, and
writes them to one backend:
  graphite    plaintext protocol to carbon:  demo.error_rate, demo.latency_ms,
              demo.requests.200, demo.requests.500
  influxdb    line protocol to /write?db=demo:  service error_rate=…,latency_ms=…
              and requests,code=200 value=…
  cloudwatch  PutMetricData (boto3) to namespace Demo: ErrorRate, LatencyMs, Requests{Code}

Switches on --control-port:  GET /bad  (25 % errors, ~400 ms)   GET /good  (~2 %, ~50 ms)

usage: feeder.py graphite   --to 127.0.0.1:2003    --control-port 18090
       feeder.py influxdb   --to http://127.0.0.1:8086 --control-port 18090
       feeder.py cloudwatch --to http://127.0.0.1:5000 --control-port 18090   (boto3)
"""
import argparse, random, socket, threading, time, urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

state = {"error_pct": 2.0, "latency_ms": 50.0}


def draw():
    jitter = lambda: random.uniform(0.8, 1.2)
    rate = state["error_pct"] * jitter()
    total = 100.0 * jitter()
    return {"error_rate": round(rate, 2), "latency_ms": round(state["latency_ms"] * jitter(), 2),
            "ok": round(total * (1 - rate / 100), 2), "errors": round(total * rate / 100, 2)}


def graphite(to):
    host, port = to.rsplit(":", 1)
    def push(p, t):
        lines = [f"demo.error_rate {p['error_rate']} {t}", f"demo.latency_ms {p['latency_ms']} {t}",
                 f"demo.requests.200 {p['ok']} {t}", f"demo.requests.500 {p['errors']} {t}"]
        with socket.create_connection((host, int(port)), timeout=2) as s:
            s.sendall(("\n".join(lines) + "\n").encode())
    return push


def influxdb(to):
    def push(p, t):
        body = (f"service error_rate={p['error_rate']},latency_ms={p['latency_ms']} {t}\n"
                f"requests,code=200 value={p['ok']} {t}\nrequests,code=500 value={p['errors']} {t}\n")
        req = urllib.request.Request(f"{to}/write?db=demo&precision=s", data=body.encode(), method="POST")
        urllib.request.urlopen(req, timeout=2).read()
    return push


def cloudwatch(to):
    import boto3  # the moto venv has it
    cw = boto3.client("cloudwatch", endpoint_url=to)
    def push(p, t):
        data = [{"MetricName": "ErrorRate", "Value": p["error_rate"], "Timestamp": t},
                {"MetricName": "LatencyMs", "Value": p["latency_ms"], "Timestamp": t},
                {"MetricName": "Requests", "Dimensions": [{"Name": "Code", "Value": "200"}], "Value": p["ok"], "Timestamp": t},
                {"MetricName": "Requests", "Dimensions": [{"Name": "Code", "Value": "500"}], "Value": p["errors"], "Timestamp": t}]
        cw.put_metric_data(Namespace="Demo", MetricData=data)
    return push


class Control(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/bad":
            state.update(error_pct=25.0, latency_ms=400.0)
        elif self.path == "/good":
            state.update(error_pct=2.0, latency_ms=50.0)
        body = f"{state}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("backend", choices=["graphite", "influxdb", "cloudwatch"])
    ap.add_argument("--to", required=True)
    ap.add_argument("--control-port", type=int, default=18090)
    a = ap.parse_args()
    push = {"graphite": graphite, "influxdb": influxdb, "cloudwatch": cloudwatch}[a.backend](a.to)
    server = ThreadingHTTPServer(("127.0.0.1", a.control_port), Control)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    while True:
        t = int(time.time())
        try:
            push(draw(), t)
        except Exception as e:  # the backend restarting must not end the demo service
            print(f"feeder: push failed: {e}", flush=True)
        time.sleep(max(0.0, t + 1 - time.time()))


if __name__ == "__main__":
    main()
