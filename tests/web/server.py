#!/usr/bin/env python3
"""Purpose-built JSON endpoints for tests/web.rs and examples/web-demo: one small HTTP
server (standard library only) on 127.0.0.1, optionally TLS (--cert/--key) and mutual TLS
(--client-ca). Each path is one case the `web` backend must handle honestly.

  /value            {"data": {"value": V}}     V set by /set?value=V (default 1)
  /set?value=V      sets V
  /empty            {"data": {"result": []}}   a selection that finds nothing
  /null             {"data": {"value": null}}
  /string           {"data": {"value": "high"}}
  /500              HTTP 500 with a JSON error body
  /slow             answers after 5 s
  /notjson          200 with a text body
  /posted           POST only, with header X-Api-Key: k3y-9d2e and JSON body {"q": "errors"}
  /basic            needs Basic user:pa55-w0rd-61 (401 echoing the Authorization header)
  /bearer           needs Bearer s3cr3t-bearer-77 (401 echoing the Authorization header)
  /token            OAuth2 token endpoint: Basic vz-client:cl1ent-s3cret-42, client_credentials
  /oauth            needs the token /token hands out
  /oauth-reject     401 whatever the token (echoing the Authorization header)
  /range?start=&end=&step=   {"values": [[t, "V"], ...]} with one null point
  /stats            {"token_requests": n, "requests": n}
"""
import argparse
import base64
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

API_KEY = "k3y-9d2e"
BASIC = base64.b64encode(b"user:pa55-w0rd-61").decode()
BEARER = "s3cr3t-bearer-77"
CLIENT = base64.b64encode(b"vz-client:cl1ent-s3cret-42").decode()
ACCESS_TOKEN = "acc3ss-t0ken-5150"

lock = threading.Lock()
state = {"value": 1.0, "token_requests": 0, "requests": 0}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, obj=None, raw=None, ctype="application/json"):
        body = raw if raw is not None else json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.handle_any("POST")

    def do_GET(self):
        self.handle_any("GET")

    def handle_any(self, method):
        path, _, query = self.path.partition("?")
        args = {k: v[0] for k, v in parse_qs(query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        with lock:
            state["requests"] += 1
            value = state["value"]
        if path == "/value":
            self.reply(200, {"data": {"value": value}})
        elif path == "/set":
            with lock:
                state["value"] = float(args["value"])
            self.reply(200, {"ok": True})
        elif path == "/empty":
            self.reply(200, {"data": {"result": []}})
        elif path == "/null":
            self.reply(200, {"data": {"value": None}})
        elif path == "/string":
            self.reply(200, {"data": {"value": "high"}})
        elif path == "/500":
            self.reply(500, {"error": "internal failure"})
        elif path == "/slow":
            time.sleep(5)
            self.reply(200, {"data": {"value": value}})
        elif path == "/notjson":
            self.reply(200, raw=b"<html>hello</html>", ctype="text/html")
        elif path == "/posted":
            ok = (
                method == "POST"
                and self.headers.get("X-Api-Key") == API_KEY
                and self.headers.get("Content-Type") == "application/json"
                and json.loads(body or b"null") == {"q": "errors"}
            )
            self.reply(200 if ok else 400, {"data": {"value": 7}} if ok else {"error": "bad request"})
        elif path == "/basic":
            self.guarded(auth == "Basic " + BASIC, auth, {"data": {"value": 3}})
        elif path == "/bearer":
            self.guarded(auth == "Bearer " + BEARER, auth, {"data": {"value": 4}})
        elif path == "/token":
            form = parse_qs(body.decode())
            ok = auth == "Basic " + CLIENT and form.get("grant_type") == ["client_credentials"]
            with lock:
                state["token_requests"] += 1
            if ok:
                self.reply(200, {"access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 3600})
            else:
                self.reply(401, {"error": "invalid_client", "got": auth})
        elif path == "/oauth":
            self.guarded(auth == "Bearer " + ACCESS_TOKEN, auth, {"data": {"value": 5}})
        elif path == "/oauth-reject":
            self.guarded(False, auth, None)
        elif path == "/range":
            start, end, step = int(args["start"]), int(args["end"]), max(1, int(args["step"]))
            points = [[t, str(value)] for t in range(start, end + 1, step)]
            if len(points) > 2:
                points[1][1] = None
            self.reply(200, {"values": points})
        elif path == "/stats":
            with lock:
                self.reply(200, {"token_requests": state["token_requests"], "requests": state["requests"]})
        else:
            self.reply(404, {"error": "no such path"})

    def guarded(self, ok, auth, answer):
        if ok:
            self.reply(200, answer)
        else:
            # A careless server: it echoes the credentials it got in its error body.
            self.reply(401, {"error": "unauthorized", "got": auth})


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--client-ca")
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        if a.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(a.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
