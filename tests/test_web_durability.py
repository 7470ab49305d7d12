"""No acknowledged answer is lost: the server (a real `joinedup serve` process on a SQLite file) is
killed with SIGKILL right after acknowledging saves, and everything acknowledged is there after a
restart; 40 respondents saving at once do not interfere (each finds exactly its own answers).
"""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest

from joinedup.survey.roster import read_roster
from joinedup.survey.store import SurveyStore
from joinedup.web.security import token_csrf

SECRET = "ab" * 32


def _port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url, port):
    env = {**os.environ, "JOINEDUP_SECRET": SECRET}
    exe = Path(sys.executable).parent / "joinedup"
    proc = subprocess.Popen([str(exe), "serve", "--store", url, "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/admin/login", timeout=0.5)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    pytest.fail("the server did not start")


@pytest.fixture
def panel(tmp_path):
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    store = SurveyStore(url)
    store.create()
    n = 40
    roster = pd.DataFrame({"panelist_id": [f"p{i}" for i in range(n)], "name": "x",
                           "email": [f"p{i}@example.org" for i in range(n)], "pioneer": "Barnsley",
                           "org_type": "la", "role": "", "is_lead": "no"})
    store.upsert_panelists(read_roster(roster))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2015-07-31")
    store.set_wave_status(1, "open")
    return url, store, store.issue_tokens(1)


def _save(base, token, answers):
    data = {"csrf": token_csrf(bytes.fromhex(SECRET), token), **answers}
    return httpx.post(f"{base}/s/{token}/autosave", data=data, timeout=30)


def test_killed_server_loses_nothing_acknowledged(panel):
    url, store, tokens = panel
    port = _port()
    proc = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    acknowledged = {}
    try:
        for i, (pid, token) in enumerate(list(tokens.items())[:10]):
            answers = {"achievements": f"answer {i}", "prog_quality": "some"}
            if _save(base, token, answers).status_code == 204:
                acknowledged[pid] = answers
    finally:
        proc.send_signal(signal.SIGKILL)  # no clean shutdown
        proc.wait()
    assert len(acknowledged) == 10
    for pid, answers in acknowledged.items():
        assert store.answers(pid, 1) == answers
    proc = _serve(url, port)  # and the restarted server shows them
    try:
        pid, token = next(iter(tokens.items()))
        assert "answer 0" in httpx.get(f"{base}/s/{token}", timeout=10).text
    finally:
        proc.terminate()
        proc.wait()


def test_concurrent_respondents_do_not_interfere(panel):
    url, store, tokens = panel
    port = _port()
    proc = _serve(url, port)
    base = f"http://127.0.0.1:{port}"
    codes = {}

    def respondent(pid, token):
        for k in range(3):  # each saves three times, the last answers win
            codes[pid] = _save(base, token, {"achievements": f"{pid} round {k}"}).status_code

    try:
        threads = [threading.Thread(target=respondent, args=item) for item in tokens.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        proc.terminate()
        proc.wait()
    assert set(codes.values()) == {204}
    for pid in tokens:
        assert store.answers(pid, 1) == {"achievements": f"{pid} round 2"}
