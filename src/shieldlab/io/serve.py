"""Serve a results folder and the scene viewer on this machine only: ``shieldlab view DIR``.

The viewer (``web/``: CesiumJS from npm with its bundled Natural Earth II imagery, built
into ``web/dist`` by ``make viewer``) is served at ``/``, the results folder at ``/data/``;
the page loads ``data/scene.czml``.  Nothing else is served: a path is decoded once,
may not hold ``.`` or ``..`` segments, a backslash or a NUL, must name a file (no folder
listings) and must resolve, links followed, inside its root; anything else is 404.  The
server binds 127.0.0.1 only, on a free port unless one is given.
"""

from __future__ import annotations

import os
import threading
import urllib.parse
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

#: Environment variable naming a built viewer folder (instead of the source tree's web/dist).
VIEWER_ENV = "SHIELDLAB_VIEWER"
#: The address the server binds: this machine only.
HOST = "127.0.0.1"


class ViewerMissing(RuntimeError):
    """The built viewer is not where it is looked for."""


def viewer_dir() -> Path:
    """The built viewer: ``$SHIELDLAB_VIEWER``, else ``web/dist`` of the source tree this
    package runs from; :class:`ViewerMissing` where it has not been built."""
    env = os.environ.get(VIEWER_ENV)
    d = Path(env) if env else Path(__file__).resolve().parents[3] / "web" / "dist"
    if not (d / "index.html").is_file() or not (d / "cesium" / "Cesium.js").is_file():
        if env:  # the user's own path: say so, not how to build the source tree's
            raise ViewerMissing(f"{VIEWER_ENV}={env} is no built viewer (it needs index.html and cesium/Cesium.js, "
                                "as `make viewer` writes into web/dist)")
        raise ViewerMissing(f"the scene viewer is not built at {d}: run `make viewer` in the source tree "
                            f"(npm ci and npm run build in web/), or set {VIEWER_ENV} to a built viewer")
    return d


def resolve(url_path: str, viewer: Path, data: Path) -> Path | None:
    """The file a request path names: under ``/data/`` in ``data``, elsewhere in ``viewer``
    (``/`` is its index.html); None for anything outside them or not a plain file."""
    path = urllib.parse.unquote(urllib.parse.urlsplit(url_path).path, errors="strict")
    if "\\" in path or "\x00" in path or not path.startswith("/"):
        return None
    parts = path.split("/")[1:]
    if any(p in (".", "..") for p in parts) or any(p == "" for p in parts[:-1]):
        return None
    root = viewer
    if parts[0] == "data":
        root, parts = data, parts[1:]
    parts = [p for p in parts if p]
    if not parts and root is viewer:
        parts = ["index.html"]
    if not parts:
        return None
    real_root = root.resolve()
    try:
        target = real_root.joinpath(*parts).resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
    if not target.is_relative_to(real_root) or not target.is_file():
        return None
    return target


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".czml": "application/json",
                      ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
                      ".json": "application/json", ".html": "text/html; charset=utf-8"}

    def __init__(self, *args, viewer: Path, data: Path, **kwargs):
        self.viewer, self.data = viewer, data
        super().__init__(*args, directory=str(viewer), **kwargs)

    def send_head(self):
        try:
            target = resolve(self.path, self.viewer, self.data)
        except UnicodeDecodeError:
            target = None
        if target is None:
            self.send_error(404, "Not found")
            return None
        f = open(target, "rb")  # noqa: SIM115 - the base class copies it to the socket and closes it
        try:
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header("Content-type", self.guess_type(str(target)))
            self.send_header("Content-Length", str(size))
            self.send_header("Cache-Control", "no-cache")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            return f
        except BaseException:
            f.close()
            raise

    def list_directory(self, path):  # never: folders are not served
        self.send_error(404, "Not found")
        return None

    def log_message(self, format, *args):  # quiet: the command prints its address, not every request
        pass


@dataclass
class Server:
    """A running server: its address, and how to stop it."""

    url: str
    httpd: ThreadingHTTPServer
    thread: threading.Thread | None = None

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def start(data: Path, port: int = 0, viewer: Path | None = None, background: bool = True) -> Server:
    """Serve ``data`` and the viewer on 127.0.0.1 (``port`` 0: a free one); in a background
    thread unless ``background`` is False (then call ``httpd.serve_forever()``)."""
    viewer = viewer_dir() if viewer is None else viewer
    httpd = ThreadingHTTPServer((HOST, port), partial(_Handler, viewer=Path(viewer), data=Path(data)))
    httpd.daemon_threads = True
    url = f"http://{HOST}:{httpd.server_address[1]}/"
    srv = Server(url, httpd)
    if background:
        srv.thread = threading.Thread(target=httpd.serve_forever, name="shieldlab-view", daemon=True)
        srv.thread.start()
    return srv
