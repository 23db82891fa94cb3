import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import stage_error

from textclf.config.files import FetchError, fetch


def test_fetch_copies_local_paths_and_file_urls(tmp_path):
    source = tmp_path / "source.csv"
    source.write_bytes(b'"1","a","b"\n')
    fetch(str(source), tmp_path / "out/by_path.csv", "data.train_url")
    fetch(source.as_uri(), tmp_path / "out/by_url.csv", "data.train_url")
    assert (tmp_path / "out/by_path.csv").read_bytes() == source.read_bytes()
    assert (tmp_path / "out/by_url.csv").read_bytes() == source.read_bytes()


@pytest.mark.parametrize("source", ["missing.csv", "http://127.0.0.1:9/train.csv"])
def test_unreachable_source_says_how_to_go_offline_and_writes_nothing(tmp_path, source):
    with pytest.raises(FetchError, match=r"point data.test_url in params.yaml at a local file"):
        fetch(source, tmp_path / "raw/test.csv", "data.test_url")
    assert list(tmp_path.rglob("*")) == []


class CsvHandler(BaseHTTPRequestHandler):
    """Serves /full.csv whole, /cut.csv announcing more bytes than it sends, /chunked-cut.csv
    as chunks that stop before the last one, /no-length.csv without any length."""

    BODY = b'"1","a","b"\n' * 1000
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        if self.path == "/chunked-cut.csv":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (100, self.BODY[:100]))
        elif self.path == "/no-length.csv":
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(self.BODY)
        else:
            self.send_header("Content-Length", str(len(self.BODY)))
            self.end_headers()
            self.wfile.write(self.BODY if self.path == "/full.csv" else self.BODY[:100])
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), CsvHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_fetch_over_http(tmp_path, http_server):
    fetch(f"{http_server}/full.csv", tmp_path / "train.csv", "data.train_url")
    assert (tmp_path / "train.csv").read_bytes() == CsvHandler.BODY


def test_interrupted_download_leaves_nothing(tmp_path, http_server):
    target = tmp_path / "train.csv"
    target.write_bytes(b"previous")
    with pytest.raises(FetchError, match="download of .*cut.csv interrupted"):
        fetch(f"{http_server}/cut.csv", target, "data.train_url")
    assert target.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["train.csv"]


def test_download_stage_error_is_one_line(tmp_path):
    (tmp_path / "params.yaml").write_text(
        "data: {train_url: nowhere/train.csv, test_url: t.csv, classes: [a, b]}\n"
    )
    message = stage_error("download", tmp_path)
    assert message.startswith(
        "error: cannot reach data.train_url (params.yaml:1: nowhere/train.csv: no such file or "
        "directory), data.test_url (params.yaml:1: t.csv: no such file or directory); nothing "
        "was run: offline, put the files on this machine"
    )
    assert list(tmp_path.iterdir()) == [tmp_path / "params.yaml"]


def test_chunked_download_that_stops_early_is_an_error(tmp_path, http_server):
    with pytest.raises(FetchError, match="download of .*chunked-cut.csv interrupted"):
        fetch(f"{http_server}/chunked-cut.csv", tmp_path / "train.csv", "data.train_url")
    assert list(tmp_path.iterdir()) == []


def test_download_without_a_length_warns_that_it_cannot_be_checked(tmp_path, http_server, capsys):
    fetch(f"{http_server}/no-length.csv", tmp_path / "train.csv", "data.train_url")
    assert (tmp_path / "train.csv").read_bytes() == CsvHandler.BODY
    assert "no-length.csv sent no length" in capsys.readouterr().err


def test_passwords_in_urls_are_not_echoed(tmp_path):
    with pytest.raises(FetchError) as error:
        fetch("http://alice:s3cret@127.0.0.1:9/t.csv", tmp_path / "t.csv", "data.train_url")
    assert "s3cret" not in str(error.value)
    assert "http://alice:***@127.0.0.1:9/t.csv" in str(error.value)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:9/t.csv?token=s3cret", "http://127.0.0.1:9/t.csv?token=***"),
        (
            "http://127.0.0.1:9/t.csv?X-Amz-Credential=AKIA&X-Amz-Signature=s3cret&part=1",
            "http://127.0.0.1:9/t.csv?X-Amz-Credential=***&X-Amz-Signature=***&part=1",
        ),
        ("http://127.0.0.1:9/t.csv?api_key=s3cret", "http://127.0.0.1:9/t.csv?api_key=***"),
    ],
)
def test_credentials_in_a_urls_query_are_not_echoed(tmp_path, url, shown):
    with pytest.raises(FetchError) as error:
        fetch(url, tmp_path / "t.csv", "data.train_url")
    assert "s3cret" not in str(error.value) and "AKIA" not in str(error.value)
    assert shown in str(error.value)


def test_symlink_loop_is_a_one_line_error(tmp_path):
    loop = tmp_path / "loop.csv"
    loop.symlink_to(loop)
    (tmp_path / "params.yaml").write_text(
        "data: {train_url: loop.csv, test_url: t.csv, classes: [a, b]}\n"
    )
    assert stage_error("download", tmp_path).startswith(
        "error: cannot reach data.train_url (params.yaml:1: loop.csv: too many levels of symbolic"
    )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["loop.csv", "params.yaml"]
