"""The service under load and under abuse, over real HTTP: concurrent requests are batched
(seen in /metrics) and none fails, a full queue answers 503, a long text is cut before
tokenizing, a chunked oversized body is refused without the server holding it, SIGTERM lets
the request in flight finish, Hugging Face's InferenceClient works unchanged, and every bad
request is one 4xx line in the `{"error": ...}` shape."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from conftest import command_env, free_port, server_process, serving
from fixtures import CLASSES
from huggingface_hub import InferenceClient
from test_serve import call, model_folder, post  # noqa: F401 (model_folder: a fixture)


@pytest.fixture(scope="module")
def server(model_folder):  # noqa: F811
    with serving(model_folder) as url:
        yield url


def metric(url: str, name: str) -> float:
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_concurrent_clients_are_batched_and_none_fails(server):
    before_batches = metric(server, "textclf_batch_requests_count")
    before_requests = metric(server, "textclf_batch_requests_sum")

    def client(number: int) -> list[int]:
        return [post(server, {"texts": [f"Stocks rally {number} {i}"]})[0] for i in range(4)]

    with ThreadPoolExecutor(32) as pool:
        statuses = [status for found in pool.map(client, range(32)) for status in found]
    assert statuses == [200] * 128
    batches = metric(server, "textclf_batch_requests_count") - before_batches
    requests = metric(server, "textclf_batch_requests_sum") - before_requests
    assert requests == 128
    assert batches < requests, "no batch held more than one request"
    assert metric(server, 'textclf_requests_total{route="/predict",status="200"}') >= 128


def test_a_full_queue_answers_503_with_retry_after(model_folder):  # noqa: F811
    with serving(model_folder, "--max-queue", "1", "--runtime", "torch") as url:
        texts = [f"Coach praises striker after the final, match {i}" for i in range(64)]
        body = json.dumps({"texts": texts}).encode()
        host, port = url.removeprefix("http://").split(":")

        def request(_: int) -> tuple[int, str | None, dict]:
            connection = http.client.HTTPConnection(host, int(port), timeout=60)
            connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
            response = connection.getresponse()
            answer = (
                response.status,
                response.getheader("Retry-After"),
                json.loads(response.read()),
            )
            connection.close()
            return answer

        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(request, range(24)))
    refused = [a for a in answers if a[0] == 503]
    assert refused, "24 requests at once never filled a queue of 1"
    for _, retry_after, body in refused:
        assert retry_after == "1"
        assert body == {"error": "too many requests waiting; retry shortly"}
    assert {a[0] for a in answers} == {200, 503}


def test_a_long_text_costs_about_what_a_short_one_costs(server):
    long_text = " ".join(["Markets fell sharply as investors weighed the earnings"] * 17_000)
    assert 900_000 < len(long_text.encode()) < 1_000_000

    def seconds(text: str) -> float:
        started = time.perf_counter()
        status, _ = post(server, {"texts": [text]})
        assert status == 200
        return time.perf_counter() - started

    short = statistics.median(seconds("Markets fell sharply") for _ in range(5))
    long = statistics.median(seconds(long_text) for _ in range(5))
    # tokenizing all 950 KB would take about a second; the first 128 tokens take milliseconds
    assert long < 5 * short + 0.1, (short, long)


def test_a_chunked_oversized_body_is_refused_as_it_streams(model_folder):  # noqa: F811
    with server_process(model_folder) as (url, process):
        memory = psutil.Process(process.pid)
        before = memory.memory_info().rss
        host, port = url.removeprefix("http://").split(":")
        connection = socket.create_connection((host, int(port)), timeout=30)
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"x" * 1_000_000
        sent = 0
        try:
            for _ in range(300):  # 300 MB, if the server read it all
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while b"}" not in answer:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
        connection.close()
        assert sent < 300_000_000, "the server read the whole 300 MB body"
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b'{"error":"body over 1000000 bytes"}' in answer
        assert memory.memory_info().rss - before < 50_000_000
        assert call(url, "/health")[0] == 200


def test_sigterm_lets_the_request_in_flight_finish(model_folder):  # noqa: F811
    with server_process(model_folder) as (url, process):
        host, port = url.removeprefix("http://").split(":")
        body = json.dumps({"texts": ["Stocks rally as oil prices fall"]}).encode()
        connection = socket.create_connection((host, int(port)), timeout=60)
        connection.sendall(
            b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:10])
        )
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)  # while the body is still coming in
        time.sleep(0.5)
        connection.sendall(body[10:])
        answer = b""
        while not answer.endswith(b"}"):
            data = connection.recv(65536)
            if not data:
                break
            answer += data
        connection.close()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        assert b'"predictions"' in answer
        # uvicorn ends by the signal it got (-15) once the requests in flight are answered
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)


def test_hugging_face_inference_client_works_unchanged(server):
    client = InferenceClient(model=server)
    top_two = client.text_classification("Stocks rally as oil prices fall", top_k=2)
    _, ours = post(server, {"texts": ["Stocks rally as oil prices fall"]})
    probabilities = ours["predictions"][0]["probabilities"]
    expected = sorted(probabilities.items(), key=lambda item: -item[1])[:2]
    assert [(e.label, round(e.score, 6)) for e in top_two] == expected
    every = client.text_classification("Stocks rally as oil prices fall")
    assert sorted(e.label for e in every) == sorted(CLASSES)
    status, batch = call(
        server, "/", json.dumps({"inputs": ["a", "b", "c"], "parameters": {"top_k": 1}}).encode()
    )
    assert status == 200 and [len(row) for row in batch] == [1, 1, 1]


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "message"),
    [
        ("POST", "/predict", b'{"texts": ["caf\xe9"]}', {}, 400, "body is not UTF-8"),
        ("POST", "/predict", b"[" * 5000 + b"]" * 5000, {}, 400, "body nests deeper than 32"),
        ("GET", "/predict", None, {}, 405, "GET is not allowed on /predict"),
        ("POST", "/nowhere", b"{}", {}, 404, "no route /nowhere"),
        ("POST", "/predict", b'{"records": []}', {}, 422, "no texts: send at least one"),
        ("POST", "/predict", b'{"texts": ["\\ud800"]}', {}, 422, "texts[0]: not valid Unicode"),
        ("POST", "/predict", b'{"inputs": 3}', {}, 422, "inputs: must be a list of strings"),
        (
            "POST",
            "/",
            b'{"inputs": "a", "parameters": {"top_k": 0}}',
            {},
            422,
            "parameters.top_k: must be a positive integer, got 0",
        ),
        ("POST", "/predict", b'"just a string"', {}, 422, "body: must be a JSON object, got str"),
    ],
)
def test_every_bad_request_is_one_4xx_line(server, method, path, body, headers, status, message):
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.request(method, path, body, headers)
    response = connection.getresponse()
    answer = json.loads(response.read())
    connection.close()
    assert response.status == status
    assert list(answer) == ["error"] and answer["error"].startswith(message), answer


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_is_read_whatever_its_content_type(server, content_type):
    """curl -d sends a form content type, some clients none: the body is JSON all the same."""
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Content-Type": content_type} if content_type else {}
    connection.request("POST", "/predict", b'{"texts": ["Stocks rally"]}', headers)
    response = connection.getresponse()
    assert response.status == 200
    assert re.match(r"\{\"predictions\":", response.read().decode())
    connection.close()


def test_ready_is_false_until_the_model_is_loaded(model_folder):  # noqa: F811
    """Polled from the first moment the port answers: 503 (still loading) and then 200, never
    the other way round; a request before readiness gets 503 in the error shape."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "textclf.serve", "--model", str(model_folder), "--port", str(port)],
        env=command_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url, seen = f"http://127.0.0.1:{port}", []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (not seen or seen[-1][0] != 200):
            try:
                seen.append(call(url, "/ready"))
                if seen[-1][0] == 503:
                    status, answer = post(url, {"texts": ["too early"]})
                    assert status in (200, 503)
                    if status == 503:
                        assert answer == {"error": "the model is still loading"}
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.01)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert seen and seen[-1] == (200, {"ready": True})
    assert all(answer == (503, {"ready": False}) for answer in seen[:-1])


def python_snippets(page: str) -> list[str]:
    text = (Path(__file__).resolve().parents[1] / "docs" / page).read_text()
    return re.findall(r"```python\n(.*?)```", text, re.S)


def test_the_docs_client_snippets_run_against_the_service(server, capsys):
    snippets = python_snippets("serving.md")
    assert len(snippets) == 2
    for snippet in snippets:
        code = snippet.replace("http://127.0.0.1:8000", server)
        exec(compile(code, "docs/serving.md", "exec"), {})  # the page's code, as a user runs it
    printed = capsys.readouterr().out.strip()
    assert printed in CLASSES


def partial_request(url: str, body: bytes, sent: int) -> socket.socket:
    """A POST /predict whose Content-Length promises `body` but only `sent` bytes of it come."""
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=60)
    connection.sendall(
        b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(body), body[:sent])
    )
    return connection


def test_a_body_that_trickles_in_is_timed_out_as_a_whole(model_folder):  # noqa: F811
    """One byte every half second never trips the idle timeout: the whole body's deadline does."""
    body = json.dumps({"texts": ["Stocks rally as oil prices fall"]}).encode()
    flags = ("--body-timeout", "2", "--body-deadline", "3")
    with server_process(model_folder, *flags) as (url, _):
        trickling = partial_request(url, body, 1)
        start = time.monotonic()
        trickling.settimeout(0.5)
        answer, sent = b"", 1
        while not answer.endswith(b"}") and time.monotonic() - start < 20:
            try:
                answer += trickling.recv(65536)
            except TimeoutError:
                if sent < len(body) - 1:  # never the last byte: the body stays unfinished
                    trickling.sendall(body[sent : sent + 1])
                    sent += 1
        trickling.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'{"error":"the body did not arrive whole within 3 s"}' in answer
        assert 2.5 < time.monotonic() - start < 10


def test_a_stalled_body_times_out_and_cannot_hold_a_shutdown_open(model_folder):  # noqa: F811
    body = json.dumps({"texts": ["Stocks rally as oil prices fall"]}).encode()
    with server_process(model_folder, "--body-timeout", "1") as (url, process):
        stalled = partial_request(url, body, 10)
        start = time.monotonic()
        answer = b""
        while not answer.endswith(b"}"):
            data = stalled.recv(65536)
            if not data:
                break
            answer += data
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b'{"error":"no part of the body arrived for 1 s"}' in answer
        assert time.monotonic() - start < 10
        stalled.close()
        # a client that never finishes its body: SIGTERM still ends the server soon
        holding = partial_request(url, body, 10)
        process.send_signal(signal.SIGTERM)
        start = time.monotonic()
        process.wait(timeout=30)
        assert time.monotonic() - start < 15
        holding.close()


def test_a_client_gone_mid_body_is_no_server_error(model_folder):  # noqa: F811
    body = json.dumps({"texts": ["Stocks rally as oil prices fall"]}).encode()
    with server_process(model_folder) as (url, process):
        partial_request(url, body, 10).close()  # disconnects mid-body
        time.sleep(1)
        metrics = urllib.request.urlopen(f"{url}/metrics", timeout=10).read().decode()
        assert 'route="/predict",status="400"' in metrics
        assert not re.search(r'route="/predict",status="5\d\d"', metrics), metrics
        assert call(url, "/health")[0] == 200
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert "Traceback" not in stderr.decode(), stderr.decode()


def test_the_nesting_guard_reads_brackets_outside_strings_only(server):  # noqa: F811
    """Texts full of brackets are texts; a "]" inside a string cannot hide a deep nesting."""
    status, answer = post(server, {"texts": ["[[[{{{ " * 20 + "stocks rally"]})
    assert status == 200, answer
    hidden = '{"texts": ["a"], "x": "' + "]" * 5000 + '", "y": ' + "[" * 5000 + "]" * 5000 + "}"
    assert call(server, "/predict", hidden.encode()) == (
        400,
        {"error": "body nests deeper than 32 levels"},
    )


def test_a_port_in_use_or_a_bad_host_is_one_line(model_folder):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for host, expected in [
            ("127.0.0.1", f"error: --port {port}: already in use on 127.0.0.1: pick another"),
            ("no-such-host.invalid", "error: --host no-such-host.invalid: not an address of"),
        ]:
            result = subprocess.run(
                [sys.executable, "-m", "textclf.serve", "--model", str(model_folder)]
                + ["--host", host, "--port", str(port)],
                env=command_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert result.returncode == 1
            assert result.stderr.strip().startswith(expected), result.stderr
            assert "\n" not in result.stderr.strip()
