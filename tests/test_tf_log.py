"""TensorFlow's start-up log held to TF_CPP_MIN_LOG_LEVEL, and Keras' step retracing warning dropped."""

import logging
import os
import subprocess
import sys

import pytest

from forensiclib import _tf_log

NOTICE = _tf_log.ABSL_NOTICE.decode()
ONEDNN = ("I0000 00:00:1796401458.012547    4300 port.cc:153] oneDNN custom operations are on. You may see slightly "
          "different numerical results due to floating-point round-off errors from different computation orders.")
WARNING = "W0000 00:00:1796401458.1    4300 cpu_feature_guard.cc:227] a warning"


def test_start_up_lines_below_the_level_go_and_everything_else_stays():
    data = f"{NOTICE}\n{ONEDNN}\nmine\n{WARNING}\n".encode()
    assert _tf_log.filter_startup_log(data, 0) == data
    assert _tf_log.filter_startup_log(data, 1) == f"{NOTICE}\nmine\n{WARNING}\n".encode()
    assert _tf_log.filter_startup_log(data, 2) == b"mine\n"
    assert _tf_log.filter_startup_log(data, 3) == b"mine\n"
    assert _tf_log.filter_startup_log(b"no newline at the end", 3) == b"no newline at the end"


@pytest.mark.parametrize(("value", "level"), [("", 0), ("3", 3), ("1", 1), ("x", 0), ("7", 0)])
def test_the_level_is_tensorflow_s_own_variable(monkeypatch, value, level):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", value)
    assert _tf_log.min_log_level() == level


def test_held_stderr_writes_back_what_is_not_tensorflow_s_log(capfd):
    with _tf_log.held_stderr(3):
        os.write(2, f"{NOTICE}\n{ONEDNN}\n".encode())
        os.write(2, b"a line of mine\n")
    assert capfd.readouterr().err == "a line of mine\n"


def test_the_retracing_warning_goes_for_keras_step_functions_only(caplog):
    logger = logging.getLogger("tensorflow.test")
    logger.addFilter(_tf_log.KerasStepRetracing())
    keras_step = ("5 out of the last 5 calls to <function TensorFlowTrainer.make_predict_function.<locals>."
                  "one_step_on_data_distributed at 0x7f> triggered tf.function retracing. Tracing is expensive")
    mine = "5 out of the last 5 calls to <function my_step at 0x7f> triggered tf.function retracing."
    with caplog.at_level(logging.WARNING, logger="tensorflow.test"):
        logger.warning(keras_step)
        logger.warning(mine)
    assert [r.getMessage() for r in caplog.records] == [mine]


_IMPORT = "import sys, forensiclib, keras; print('a line of mine', file=sys.stderr)"


@pytest.mark.slow
def test_importing_tensorflow_with_onednn_s_custom_operations_on_prints_only_what_the_level_allows():
    """`TF_ENABLE_ONEDNN_OPTS=1` turns oneDNN's custom operations (and their start-up notice) on on any x86 CPU."""
    env = {**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1"}
    loud = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True, timeout=300,
                          env={**env, "TF_CPP_MIN_LOG_LEVEL": "0"})  # fmt: skip
    assert "oneDNN custom operations are on" in loud.stderr, "the noisy case is not reproduced: the test proves nothing"
    quiet = subprocess.run([sys.executable, "-c", _IMPORT], capture_output=True, text=True, timeout=300,
                           env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == "a line of mine\n", quiet.stderr


_ONEDNN = "import os, sys; {first}import forensiclib; print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))"


@pytest.mark.parametrize(("first", "given", "expected"), [
    ("", None, "1"),  # forensiclib's default: oneDNN's kernels on any x86 CPU, not only AVX-512 ones
    ("", "0", "0"),  # the caller's choice (Eigen's kernels, exact at 128x128 and up) is kept
    ("import tensorflow; ", None, "None"),  # too late to matter: TensorFlow read it already, so it is left alone
], ids=["default", "caller-says-0", "tensorflow-first"])  # fmt: skip
def test_import_forensiclib_turns_onednn_on_unless_told_otherwise_or_too_late(first, given, expected):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if given is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = given
    out = subprocess.run([sys.executable, "-c", _ONEDNN.format(first=first)], capture_output=True, text=True,
                         timeout=300, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected
