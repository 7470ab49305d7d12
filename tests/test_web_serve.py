"""Issue 15 against a real `joinedup serve` process (uvicorn): survey tokens never reach the access log
(the route is logged, not the token); a streamed (chunked) body is cut off as it passes the limit,
without the server reading it all; slow admin work (a 20,000-row roster import) runs off the event
loop, so another request is answered while it runs.
"""

import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from tests.test_web_durability import SECRET, _port

from joinedup.survey.roster import read_roster
from joinedup.survey.store import SurveyStore
from joinedup.web.security import token_csrf

PASSWORD = "a long enough password"


@pytest.fixture
def served(tmp_path):
    url = f"sqlite:///{tmp_path / 'survey.db'}"
    store = SurveyStore(url)
    store.create()
    store.add_admin("admin", PASSWORD)
    roster = pd.DataFrame({"panelist_id": ["p1", "p2"], "name": "x", "email": ["a@example.org", "b@example.org"],
                           "pioneer": "Barnsley", "org_type": "la", "role": "", "is_lead": "no"})
    store.upsert_panelists(read_roster(roster))
    store.create_wave(1, "pioneer_ki_survey", "2015-06-01", "2099-07-31")
    store.set_wave_status(1, "open")
    port, log = _port(), tmp_path / "serve.log"
    env = {**os.environ, "JOINEDUP_SECRET": SECRET}
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(Path(sys.executable).parent / "joinedup"), "serve", "--store", url, "--port",
                                 str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(f"{base}/admin/login", timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the server did not start")
    try:
        yield base, port, store, log
    finally:
        proc.terminate()
        proc.wait()


def test_access_log_names_the_route_not_the_token(served):
    base, _, store, log = served
    tokens = store.issue_tokens(1)
    token = tokens["p1"]
    assert httpx.get(f"{base}/s/{token}").status_code == 200
    r = httpx.post(f"{base}/s/{token}/autosave", data={"csrf": token_csrf(bytes.fromhex(SECRET), token),
                                                      "achievements": "x"})
    assert r.status_code == 204
    httpx.get(f"{base}/unsubscribe/{tokens['p2']}")
    httpx.get(f"{base}/s/not-a-valid-token?x=1")
    time.sleep(0.5)
    text = log.read_text()
    assert '"GET /s/<token> HTTP/1.1" 200' in text and '"POST /s/<token>/autosave HTTP/1.1" 204' in text
    assert '"GET /unsubscribe/<token> HTTP/1.1" 200' in text and '"GET /s/<token> HTTP/1.1" 404' in text
    assert token not in text and tokens["p2"] not in text and "not-a-valid-token" not in text
    assert '"GET /admin/login HTTP/1.1" 200' in text  # other routes are logged as they are


def test_streamed_body_is_cut_off_without_being_read(served):
    _, port, _, _ = served
    sock = socket.create_connection(("127.0.0.1", port))
    # an anonymous multipart upload (a file field has no per-field cap in the form parser)
    sock.sendall(b"POST /s/anything/autosave HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                 b"Content-Type: multipart/form-data; boundary=B\r\n\r\n")
    head = b'--B\r\nContent-Disposition: form-data; name="f"; filename="a.csv"\r\n\r\n'
    sock.sendall(b"%x\r\n%s\r\n" % (len(head), head))
    chunk = b"%x\r\n%s\r\n" % (1 << 16, b"x" * (1 << 16))
    sent, answer = 0, b""
    sock.setblocking(False)
    while sent < 54 << 20:  # a 54 MB body, unless the server answers first
        readable, writable, _ = select.select([sock], [sock], [], 5)
        if readable:
            answer = sock.recv(4096)
            break
        if writable:
            try:
                sent += sock.send(chunk)
            except (BlockingIOError, ConnectionError):
                break
    sock.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:80]
    assert sent < 8 << 20  # answered after the limit (1 MiB) and the socket buffers, not after 54 MB


def test_roster_import_runs_off_the_event_loop(served):
    base, _, store, _ = served
    client = httpx.Client(base_url=base, timeout=120, follow_redirects=True)
    form_token = re.search(r'name="csrf" value="([^"]+)"', client.get("/admin/login").text)
    r = client.post("/admin/login", data={"username": "admin", "password": PASSWORD,
                                          "csrf": form_token.group(1) if form_token else ""})
    csrf = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    rows = "".join(f"r{i:05d},Name {i},r{i}@example.org,Barnsley,la,,no\n" for i in range(20_000))
    body = ("panelist_id,name,email,pioneer,org_type,role,is_lead\n" + rows).encode()
    events, done = [], threading.Event()

    def upload():
        r = client.post("/admin/roster", data={"csrf": csrf}, files={"file": ("panel.csv", body, "text/csv")})
        events.append(("import answered", r.status_code))
        done.set()

    thread = threading.Thread(target=upload)
    thread.start()
    time.sleep(0.3)  # the upload (2 MB on loopback) is in; the server is checking and writing 20,000 rows
    probes = 0
    while not done.is_set():
        r = httpx.get(f"{base}/admin/login", timeout=120)
        events.append(("other request answered", r.status_code))
        probes += 1
        time.sleep(0.05)
    thread.join()
    assert ("import answered", 200) in events and store.panelists().shape[0] == 20_002
    # while the import ran, other requests were answered (before, each waited for the whole import)
    first_import = events.index(("import answered", 200))
    assert events[:first_import].count(("other request answered", 200)) >= 2, events[:5]
