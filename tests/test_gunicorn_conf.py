import os

import pytest

from desideliver.gunicorn_conf import available_cpus, options


@pytest.mark.parametrize(
    ("cpu_max", "limit"),
    [("max 100000\n", None), ("150000 100000\n", 2), ("50000 100000\n", 1), ("100000 100000\n", 1), (None, None)],
)
def test_cpus_follow_the_cgroup_quota(tmp_path, cpu_max, limit):
    path = tmp_path / "cpu.max"
    if cpu_max is not None:
        path.write_text(cpu_max)
    affinity = len(os.sched_getaffinity(0))
    assert available_cpus(path) == (min(affinity, limit) if limit else affinity)


@pytest.fixture
def one_cpu():
    """This process pinned to one CPU (as `docker run --cpuset-cpus=0` would), restored afterwards."""
    allowed = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(allowed)})
    yield
    os.sched_setaffinity(0, allowed)


def test_defaults_match_the_image_contract(monkeypatch, one_cpu):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    settings = options()
    assert settings["bind"] == ["0.0.0.0:8000"]
    assert settings["workers"] == 3  # one CPU + 2
    assert settings["worker_class"] == "sync"
    assert settings["graceful_timeout"] < 30  # compose's stop_grace_period is 30 s
    assert settings["accesslog"] == "-"


def test_web_concurrency_and_port_are_honoured(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "7")
    monkeypatch.setenv("PORT", "9001")
    settings = options()
    assert settings["workers"] == 7
    assert settings["bind"] == ["0.0.0.0:9001"]


def test_the_control_socket_is_off_unless_asked_for(monkeypatch):
    """gunicorn >= 25.1 would open one under $HOME (read-only in the image) by default."""
    monkeypatch.delenv("GUNICORN_CONTROL_SOCKET", raising=False)
    settings = options()
    assert settings["control_socket_disable"] is True
    assert settings["control_socket"] is None
    monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", "/run/desideliver/gunicorn.ctl")
    settings = options()
    assert settings["control_socket_disable"] is False
    assert settings["control_socket"] == "/run/desideliver/gunicorn.ctl"
