"""The weights registry against a loopback HTTP server (never the internet): download, cache, hash checks,
gdown for Drive entries, and the messages when the file cannot be had."""

from __future__ import annotations

import hashlib
import http.server
import threading

import pytest

from shared_utils import weights


class _Server:
    def __init__(self, root):
        self.hits: list[str] = []
        served = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(root), **kwargs)

            def do_GET(self):  # noqa: N802 (http.server's name)
                served.hits.append(self.path)
                super().do_GET()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "weights.pth").write_bytes(b"tiny weights file" * 100)
    srv = _Server(root)
    yield srv, root
    srv.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("VISUAL_EMOTION_WEIGHTS", str(folder))
    monkeypatch.delenv("VISUAL_EMOTION_OFFLINE", raising=False)
    return folder


def _register(monkeypatch, **fields):
    item = weights.WeightsEntry(**{"name": "toy", "file": "toy.pth", "what": "a test file", "cited_in": "tests",
                                   "package": "tests", "arch": "none", **fields})
    monkeypatch.setitem(weights.ENTRIES, "toy", item)
    return item


def test_download_caches_and_records_the_hash(server, cache, monkeypatch):
    srv, root = server
    _register(monkeypatch, source=f"{srv.url}/weights.pth")
    path = weights.fetch("toy", progress=False)
    assert path == cache / "toy.pth" and path.read_bytes() == (root / "weights.pth").read_bytes()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert weights._recorded(cache) == {"toy.pth": digest}  # recorded on first download
    assert weights.fetch("toy", progress=False) == path and len(srv.hits) == 1  # cached: no second download
    path.write_bytes(b"tampered")  # checked ever after
    with pytest.raises(SystemExit, match=r"toy\.pth: sha256 .* differs from the expected .*left as it is"):
        weights.fetch("toy")
    assert path.read_bytes() == b"tampered"  # a file in place is reported, never deleted


def test_a_download_with_the_wrong_hash_is_removed(server, cache, monkeypatch):
    srv, _ = server
    _register(monkeypatch, source=f"{srv.url}/weights.pth", sha256="0" * 64)
    with pytest.raises(SystemExit, match=r"weights toy: the downloaded toy\.pth was removed: sha256 .* differs"):
        weights.fetch("toy", progress=False)
    assert list(cache.iterdir()) == []  # no partial file, no file, no recorded hash


def test_drive_entries_go_through_gdown(server, cache, monkeypatch):
    srv, root = server
    monkeypatch.setattr(weights, "DRIVE_URL", srv.url + "/{}")  # the Drive address, served on loopback
    _register(monkeypatch, source="drive:weights.pth")
    path = weights.fetch("toy", progress=False)
    assert path.read_bytes() == (root / "weights.pth").read_bytes() and srv.hits == ["/weights.pth"]


def test_unreachable_and_offline_messages_say_where_to_put_the_file(server, cache, monkeypatch):
    srv, _ = server
    srv.close()  # nothing listens there any more
    _register(monkeypatch, source=f"{srv.url}/weights.pth")
    with pytest.raises(SystemExit) as caught:
        weights.fetch("toy", label="--pretrained toy", option="--pretrained", progress=False)
    message = str(caught.value)
    assert message.startswith("error: --pretrained toy: could not download toy.pth (a test file) from http://127.0")
    assert f"put it at {cache / 'toy.pth'}" in message and "or pass --pretrained PATH" in message
    assert "\n" not in message and not (cache / ".toy.pth.partial").exists()
    monkeypatch.setenv("VISUAL_EMOTION_OFFLINE", "1")
    with pytest.raises(SystemExit, match=r"toy\.pth .* is not at .*toy\.pth and downloads are off"):
        weights.fetch("toy")


def test_torchvision_names_carry_their_hash_prefix(cache, monkeypatch):
    item = weights.ENTRIES["imagenet_resnet18"]
    assert item.hash_prefix == "f37072fd" and weights.ENTRIES["affectnet_resnet50"].hash_prefix is None
    cache.mkdir()
    (cache / item.file).write_bytes(b"not the real file")
    with pytest.raises(SystemExit, match=r"does not start with f37072fd, as its file name says it must"):
        weights.fetch("imagenet_resnet18")


def test_list_and_fetch_command_lines(cache, capsys, monkeypatch):
    monkeypatch.setenv("VISUAL_EMOTION_OFFLINE", "1")
    weights.main(["list"])
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"cache folder: {cache}" and len(out) == 1 + len(weights.ENTRIES)
    assert any(line.startswith("affectnet_tsm_resnet50") and "1I3Q9pOAxiFEteF72HeijC8Ef_8ECef3e" in line
               and line.endswith("[not cached]") for line in out)
    with pytest.raises(SystemExit, match="mobilenet_face.pth .* downloads are off"):
        weights.main(["fetch", "affectnet_mobilenet_v2"])
