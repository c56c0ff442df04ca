"""A source server for the Keystone suite, on 127.0.0.1 only.

    source_server.py PORT ROOT SECONDS [LOG]

PORT 0 lets the kernel pick a free port. Once it listens, it prints
"listening on http://127.0.0.1:PORT" (flushed), for a caller to wait for.
Serves the files of ROOT with GET, each answer spread over SECONDS (a slow
source, to outlive a token), and answers 404 to the second GET of a path
under /once/ (a source that the module can read but Glance then cannot). With LOG, it
appends a line per answer: the client's User-Agent and the bytes sent."""
import http.server
import os
import sys
import time

port, root, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
log = sys.argv[4] if len(sys.argv) > 4 else None
served = set()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/once/"):
            if self.path in served:
                self.send_error(404, "served once already")
                return
            served.add(self.path)
        try:
            with open(os.path.join(root, os.path.basename(self.path)), "rb") as f:
                data = f.read()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # Slow: 20 pieces over SECONDS. Fast: 64 KiB pieces, so that the
        # count of bytes sent stays near what a client that hangs up read.
        step = max(len(data) // 20, 1) if seconds else 65536
        pause = seconds / 20
        sent = 0
        try:
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                sent += len(data[i:i + step])
                if pause:
                    time.sleep(pause)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if log:
            with open(log, "a") as f:
                f.write(f"{self.headers.get('User-Agent', '-')}\t{self.path}\t{sent}\n")

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
