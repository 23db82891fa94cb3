"""`textclf score` past this process: the same job on a two-node Ray cluster (Ray's own
cluster utilities, on this machine) and on shards in S3 (a real S3 server, SeaweedFS)."""

from __future__ import annotations

import subprocess
import sys

from conftest import command_env
from scoring import (
    assert_equals_predict,
    csv_shards,
    score,
)


def test_a_two_node_cluster_runs_the_job_on_both_nodes_with_the_same_output(tmp_path, tiny_student):
    from ray.cluster_utils import Cluster

    inputs = csv_shards(tmp_path / "archive", shards=4, rows=200)
    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        result = score(
            "--model",
            tiny_student,
            "--input",
            inputs / "part-*.csv",  # a glob: its matches are named under archive/
            "--output",
            tmp_path / "out",
            "--address",
            cluster.address,
            "--actors",
            2,
        )
    finally:
        cluster.shutdown()
    assert " on 2 nodes in " in result.stdout.strip().splitlines()[-3]
    for number in range(4):
        name = f"part-{number:02d}"
        assert_equals_predict(
            tmp_path / f"out/{name}.parquet", inputs / f"{name}.csv", tiny_student
        )


def test_shards_on_s3_are_listed_read_and_scored_like_local_ones(tmp_path, tiny_student):
    from servers import ACCESS_KEY, BUCKET, SECRET_KEY, s3_client, s3_server

    inputs = csv_shards(tmp_path / "archive", shards=2, rows=100)
    with s3_server(tmp_path / "s3") as endpoint:
        client = s3_client(endpoint)
        for path in inputs.iterdir():
            client.put_object(
                Bucket=BUCKET, Key=f"archive/2026/{path.name}", Body=path.read_bytes()
            )
        credentials = {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "textclf.score",
                "--model",
                str(tiny_student),
                "--input",
                f"s3://{BUCKET}/archive/*/part-*.csv",  # named under archive/: 2026/part-00
                "--output",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            env={**command_env(), **credentials},
            timeout=600,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert SECRET_KEY not in result.stdout + result.stderr
    for number in range(2):
        name = f"part-{number:02d}"
        assert_equals_predict(
            tmp_path / f"out/2026/{name}.parquet", inputs / f"{name}.csv", tiny_student
        )
