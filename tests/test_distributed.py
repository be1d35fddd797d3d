"""Scale-out on tf.distribute: two MultiWorkerMirroredStrategy workers on 127.0.0.1 train like one."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent


def _free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start(index, ports, out):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, "-m", "tests.mwms_worker", str(index), ",".join(map(str, ports)), str(out)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process, timeout=240):
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"a worker did not finish in {timeout} s:\n{output[-3000:]}")
    assert process.returncode == 0, output[-3000:]


def test_two_workers_train_like_one(tmp_path):
    ports = _free_ports(2)
    workers = [_start(i, ports, tmp_path / f"worker{i}.json") for i in range(2)]
    single = _start(-1, ports, tmp_path / "single.json")
    for process in (*workers, single):
        _finish(process)
    w0, w1, one = (json.loads((tmp_path / name).read_text()) for name in ("worker0.json", "worker1.json", "single.json"))
    assert w0["replicas"] == 2 and one["replicas"] == 1
    assert w0["history"] == w1["history"] and w0["checksum"] == w1["checksum"]  # the workers hold one model
    assert len(w0["history"]["loss"]) == 4
    assert w0["history"]["loss"][-1] < w0["history"]["loss"][0]  # it trains
    assert w0["history"]["val_accuracy"][-1] > 0.8
    # each global batch split between the workers, gradients summed: the single worker's updates, up to the order
    # of floating-point sums
    for key in ("loss", "val_loss", "accuracy", "val_accuracy"):
        assert w0["history"][key] == pytest.approx(one["history"][key], rel=1e-4), key
    assert w0["checksum"] == pytest.approx(one["checksum"], rel=1e-5)
