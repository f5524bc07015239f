"""One process per embedded DATA_DIR: a second one refuses to start and says why; the first keeps working;
the directory is free again once the first stops (or dies: the kernel drops the lock)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from src.app.http import create_app
from src.common.settings import Settings
from src.infrastructure.mongo.data_dir_lock import DataDirInUse, DataDirLock

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]


def test_a_second_lock_on_the_same_directory_is_refused_naming_the_holder(tmp_path):
    first = DataDirLock(tmp_path)
    first.acquire()
    try:
        with pytest.raises(DataDirInUse) as refused:
            DataDirLock(tmp_path).acquire()
        assert f"pid {os.getpid()}" in str(refused.value) and "MONGODB_URL" in str(refused.value)
    finally:
        first.release()
    again = DataDirLock(tmp_path)
    again.acquire()
    again.release()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # uvicorn exits its thread
def test_a_second_service_on_one_data_dir_refuses_to_start_and_the_first_keeps_serving(tmp_path, serve_app,
                                                                                          captured_logs):
    settings = Settings(_env_file=None, data_dir=str(tmp_path), scheduler_enabled=False)
    first = serve_app(create_app(settings))
    with pytest.raises(RuntimeError, match="did not start"):
        serve_app(create_app(settings))
    refusals = [e for e in captured_logs.events if e.get("event") == "data_dir_in_use"]
    assert refusals and "is in use by another PocketQuant process" in refusals[0]["detail"]
    assert httpx.get(first.url + "/health").status_code == 200
    first.stop()
    third = serve_app(create_app(settings))  # free again once the first stopped
    assert httpx.get(third.url + "/health").status_code == 200


def test_a_killed_holder_leaves_the_directory_free(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from src.infrastructure.mongo.data_dir_lock import DataDirLock; "
        f"DataDirLock({str(tmp_path)!r}).acquire(); print('held', flush=True); time.sleep(60)")],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DataDirInUse, match=f"pid {holder.pid}"):
            DataDirLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    time.sleep(0.05)
    lock = DataDirLock(tmp_path)
    lock.acquire()
    lock.release()
