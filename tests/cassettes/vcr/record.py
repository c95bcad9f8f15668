"""Records the vcrpy fixtures of tests/record_yaml.rs with vcrpy itself.

A loopback http.server (127.0.0.1:18733, this script's own) answers a JSON body, a
gzip-compressed response, a binary body, a POST, a redirect, a counter asked three
times and a query string; `requests` calls it under vcrpy, which writes the cassettes
next to this file as real vcrpy users get them.

    python3 -m venv /tmp/vcrenv && /tmp/vcrenv/bin/pip install vcrpy requests
    /tmp/vcrenv/bin/python tests/cassettes/vcr/record.py

The other fixtures here are written by hand, after the formats those tools write:
vcrpy1_python2.yaml (vcrpy 1.x under Python 2: `!!python/unicode`, pickled bodies),
vcr_ruby.yml (Ruby VCR 6) and vcr2_legacy.yml (Ruby VCR 2.9, Psych's `!binary`);
Ruby is not installed here to record them.
"""

import gzip
import http.server
import json
import os
import threading
import urllib.parse
import urllib.request

import requests
import vcr

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = 18733
BASE = f"http://127.0.0.1:{PORT}"
BINARY = bytes(range(256))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    counter = 0

    def log_message(self, *args):
        pass

    def send(self, status, body, content_type, extra=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/json":
            body = json.dumps({"id": 7, "name": "Ada", "langs": ["rust", "python"]})
            self.send(200, body.encode(), "application/json")
        elif url.path == "/gzip":
            body = gzip.compress(b"hello, compressed world\n" * 20, mtime=0)
            self.send(200, body, "text/plain; charset=utf-8", [("Content-Encoding", "gzip")])
        elif url.path == "/binary":
            self.send(200, BINARY, "application/octet-stream")
        elif url.path == "/redirect":
            self.send(302, b"", "text/plain", [("Location", "/json")])
        elif url.path == "/counter":
            Handler.counter += 1
            self.send(200, f"count={Handler.counter}".encode(), "text/plain")
        elif url.path == "/search":
            query = urllib.parse.parse_qs(url.query)
            body = json.dumps({k: v[0] for k, v in sorted(query.items())})
            self.send(200, body.encode(), "application/json")
        else:
            self.send(404, b"not found\n", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        data = self.rfile.read(length)
        if self.path == "/upload":
            self.send(200, f"{len(data)} bytes, first {data[0]}".encode(), "text/plain")
        else:
            body = json.dumps({"created": json.loads(data), "id": 42})
            self.send(201, body.encode(), "application/json", [("Set-Cookie", "session=s-1; HttpOnly")])


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for name in os.listdir(HERE):
            if name.startswith("vcrpy_") and name.endswith((".yaml", ".json")):
                os.remove(os.path.join(HERE, name))
        my_vcr = vcr.VCR(cassette_library_dir=HERE, record_mode="once")
        s = requests.Session()
        with my_vcr.use_cassette("vcrpy_api.yaml"):
            assert s.get(f"{BASE}/json").json()["name"] == "Ada"
            assert s.post(f"{BASE}/users", json={"name": "Grace"}).status_code == 201
            assert s.get(f"{BASE}/search", params={"q": "rust yaml", "page": "2"}).json()["page"] == "2"
            for n in (1, 2, 3):
                assert s.get(f"{BASE}/counter").text == f"count={n}"
            # requests follows the redirect: two interactions, the 302 then /json.
            assert s.get(f"{BASE}/redirect").url == f"{BASE}/json"
        with my_vcr.use_cassette("vcrpy_binary.yaml"):
            # urllib (http.client) reads the raw gzip bytes: vcrpy records them as
            # !!binary, Content-Encoding kept.
            with urllib.request.urlopen(f"{BASE}/gzip") as res:
                assert gzip.decompress(res.read()).startswith(b"hello, compressed world")
            # requests on urllib3 2: vcrpy records the body urllib3 already decoded,
            # and keeps `Content-Encoding: gzip` and the compressed Content-Length.
            assert s.get(f"{BASE}/gzip?via=requests").text.startswith("hello, compressed world")
            assert s.get(f"{BASE}/binary").content == BINARY
            assert s.post(f"{BASE}/upload", data=BINARY[::-1]).text == "256 bytes, first 255"
        # vcrpy's JSON serializer: the same structure, read by yaml::convert.
        json_vcr = vcr.VCR(cassette_library_dir=HERE, serializer="json")
        with json_vcr.use_cassette("vcrpy_json.json"):
            assert s.get(f"{BASE}/search", params={"q": "caf\u00e9 \"quoted\"", "page": "1"}).json()["page"] == "1"
        decoding = vcr.VCR(cassette_library_dir=HERE, decode_compressed_response=True)
        with decoding.use_cassette("vcrpy_decoded.yaml"):
            # decode_compressed_response: the body stored decoded, the header dropped.
            assert s.get(f"{BASE}/gzip").text.startswith("hello, compressed world")
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
