"""Browser tests of the web UI: the real app served by uvicorn, driven by Debian's Chromium through Playwright.

- Server: ``api.app.create_app`` over a temporary SQLite database, a temporary data dir (audio store) and
  Redis database 11 with a queue name of its own, served by uvicorn in a background thread on
  127.0.0.1 (a free port). Started once per test session.
- Browser: ``/usr/bin/chromium`` (Playwright never downloads a browser), headless, opened on
  ``http://localhost:<port>``. Chromium treats localhost as a secure context, so the session cookie keeps
  its ``Secure`` flag (``web.secure_cookies`` stays on); ``--host-resolver-rules`` pins localhost to
  127.0.0.1. Every request the page makes goes through ``page.route``: anything not addressed to
  localhost / 127.0.0.1 is aborted and recorded, and each test asserts that nothing was.
- Data: real sample recordings (``samples/calls/*.wav``, each copy made unique by a few trailing silent
  frames) go into the audio store and are registered as calls; the worker's real job
  (``inspector.service.call_job.process_call``) analyzes them with a transcriber that returns the reference
  transcript of the sample instead of running the speech models. So the scores, hits, review queue
  (red / fatal) and alerts come from the real engine; the weekly sampling adds lowest / random reviews.
- Screenshots (1366×768) go to ``docs/screenshots`` when a Chinese font is installed (fontconfig knows a
  ``zh`` font), else to a temporary folder (so a machine without CJK fonts never overwrites them with
  boxes). Either way each one is checked: a PNG of the right size that is not blank.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import subprocess
import threading
import time
import uuid
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

from inspector.service.context import WorkerContext, use_context
from inspector.settings import PROJECT_ROOT, QueueSettings, Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--host-resolver-rules=MAP localhost 127.0.0.1",
    "--autoplay-policy=no-user-gesture-required",
    "--lang=zh-CN",
]
# INSPECTOR_TEST_WEB_REDIS: another database for a second run on the same machine at the same time.
REDIS_URL = os.environ.get("INSPECTOR_TEST_WEB_REDIS", "redis://127.0.0.1:6379/11")
TZ = ZoneInfo("Asia/Shanghai")
VIEWPORT = {"width": 1366, "height": 768}
PASSWORD = "zhijian-2024-demo"
LOCAL_HOSTS = {"localhost", "127.0.0.1"}
DOCS_SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"

AGENTS = {"8001": ("张晓雯", "A组"), "8002": ("李建国", "A组"), "8003": ("王芳", "B组")}

# username: (role, display name, agent id, team)
USERS = {
    "admin": ("admin", "系统管理员", None, None),
    "reviewer": ("reviewer", "陈静", None, None),
    "trainer": ("trainer", "刘洋", None, None),
    "agent8001": ("agent", "张晓雯", "8001", None),
    "agent8002": ("agent", "李建国", "8002", None),
}

# (key, agent, sample, days before today, local time): about five weeks of calls, so trends have points.
CALL_PLAN = [
    ("a1_leak", "8001", "call01_leak_stereo", 29, "09:12"),
    ("a1_angry0", "8001", "call02_angry_stereo", 27, "16:40"),
    ("a1_fee", "8001", "call04_fee_hold_stereo", 24, "14:05"),
    ("a1_noise", "8001", "call05_noise_mono", 20, "10:40"),
    ("a1_elevator", "8001", "call06_elevator_mono", 17, "16:22"),
    ("a1_parking", "8001", "call03_parking_fast_stereo", 12, "11:03"),
    ("a1_elevator2", "8001", "call06_elevator_mono", 11, "17:08"),
    ("a1_garbage", "8001", "call07_garbage_mono", 9, "15:47"),
    ("a1_leak2", "8001", "call01_leak_stereo", 6, "09:55"),
    ("a1_angry", "8001", "call02_angry_stereo", 2, "10:18"),
    ("a1_noise2", "8001", "call05_noise_mono", 1, "13:30"),
    ("a2_angry", "8002", "call02_angry_stereo", 3, "11:26"),
    ("a2_elevator", "8002", "call06_elevator_mono", 5, "09:31"),
    ("a2_leak", "8002", "call01_leak_stereo", 8, "14:12"),
    ("a2_garbage", "8002", "call07_garbage_mono", 15, "10:02"),
    ("a3_parking", "8003", "call03_parking_fast_stereo", 4, "16:45"),
    ("a3_fee", "8003", "call04_fee_hold_stereo", 10, "10:20"),
    ("a3_noise", "8003", "call05_noise_mono", 22, "15:10"),
]


@dataclass
class Site:
    """The running server and what was seeded into it."""

    base_url: str
    settings: Settings
    db: Any
    calls: dict[str, str]  # plan key -> call id
    agents_of: dict[str, str]  # call id -> agent id


# --- seeding -------------------------------------------------------------------------------------


class ReferenceTranscriber:
    """Stands in for the speech pipeline: the reference transcript of the sample behind each recording."""

    def __init__(self) -> None:
        self.by_digest: dict[str, Any] = {}

    def transcribe(self, path: str | Path) -> Any:
        return self.by_digest[Path(path).name.split(".", 1)[0]]


def _unique_copy(source: Path, target: Path, extra_frames: int) -> None:
    """``source`` with ``extra_frames`` silent frames appended: the same call audio, its own sha256."""
    with wave.open(str(source), "rb") as reader:
        params = reader.getparams()
        frames = reader.readframes(reader.getnframes())
    with wave.open(str(target), "wb") as writer:
        writer.setparams(params)
        writer.writeframes(frames + b"\x00" * (params.sampwidth * params.nchannels * extra_frames))


def seed(settings: Settings, db: Any, workdir: Path) -> tuple[dict[str, str], dict[str, str]]:
    from inspector.people import review_queue
    from inspector.service.call_job import process_call
    from inspector.speech.transcript import Transcript
    from inspector.store import calls as store
    from inspector.store.blobs import LocalAudioStore
    from inspector.store.users import create_user

    samples = PROJECT_ROOT / "samples" / "calls"
    audio = LocalAudioStore(settings.audio_store_dir)
    transcriber = ReferenceTranscriber()
    today = datetime.now(TZ).date()
    new_calls, ids, agents_of = [], {}, {}
    for n, (key, agent_id, sample, days_ago, clock) in enumerate(CALL_PLAN, start=1):
        day = today - timedelta(days=days_ago)
        hour, minute = (int(part) for part in clock.split(":"))
        started = datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)
        call_id = f"HL{day:%Y%m%d}{n:03d}"
        copy = workdir / f"{call_id}.wav"
        _unique_copy(samples / f"{sample}.wav", copy, n)
        digest = audio.put_file(copy, ".wav")
        reference = json.loads((samples / f"{sample}.json").read_text(encoding="utf-8"))
        transcriber.by_digest[digest] = Transcript.from_dict(reference)
        name, team = AGENTS[agent_id]
        new_calls.append(store.NewCall(
            audio_sha256=digest, audio_bytes=copy.stat().st_size, audio_name=f"{call_id}.wav", source="import",
            agent_id=agent_id, call_id=call_id, started_at=started, direction="inbound",
            caller=f"1391234{5600 + n:04d}", duration_s=float(reference["duration_s"]), team_id=team,
            agent_name=name,
        ))  # fmt: skip
        ids[key] = call_id
        agents_of[call_id] = agent_id
    with db.session() as session:
        registered = store.register_calls(session, new_calls, TZ)
        assert all(r.created for r in registered), registered
        for username, (role, display, agent_id, team) in USERS.items():
            create_user(session, username, PASSWORD, role, display_name=display, agent_id=agent_id, team_id=team)

    context = WorkerContext(settings, db, audio, pipeline=transcriber)
    with use_context(context):
        for call_id in ids.values():
            assert process_call(call_id) == "done", call_id
    seed_coaching(settings, db, ids, today)
    # The weekly sampling (lowest-scoring / random calls) of the weeks seeded.
    with db.session() as session:
        monday = review_queue.week_monday(today)
        for week in range(5):
            review_queue.sample_week(session, settings.review, monday - timedelta(days=7 * week), seed="web-tests")
    return ids, agents_of


# Coaching history: (agent, competency, course, evidence call keys, assigned days ago, due after days,
# done days ago or None). One finished (its effect has calls on both sides), one overdue, one running.
COACHING_PLAN = [
    ("8001", "professionalism", "empathy_soothing", ["a1_angry0", "a1_elevator"], 14, 7, 10),
    ("8003", "service_skills", "standard_closing", ["a3_parking"], 20, 14, None),
    ("8002", "professionalism", "taboo_emotion_control", ["a2_angry", "a2_elevator"], 2, 12, None),
]


def seed_coaching(settings: Settings, db: Any, ids: dict[str, str], today: date) -> None:
    """Assignments made through ``inspector.people.coaching.assign``, then moved back in time (seed data)."""
    from inspector.people import coaching
    from inspector.people.catalog import catalog_for
    from inspector.store.db import utcnow

    catalog = catalog_for(settings.rules_dir)
    now = utcnow()
    with db.session() as session:
        for agent_id, competency, course, evidence, days_ago, due_after, done_ago in COACHING_PLAN:
            assignment = coaching.assign(session, catalog, "user:trainer", "trainer", agent_id, competency, course,
                                         [ids[key] for key in evidence], today - timedelta(days=days_ago - due_after),
                                         "结合证据通话逐句复盘")  # fmt: skip
            assignment.created_at = now - timedelta(days=days_ago)
            if done_ago is not None:
                assignment.status = "done"
                assignment.done_at = now - timedelta(days=done_ago)


# --- server --------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    import uvicorn

    from api.app import create_app
    from inspector.service.queue import connect_redis
    from inspector.store.db import Database

    root = tmp_path_factory.mktemp("web")
    queue_name = f"web-test-{uuid.uuid4().hex[:12]}"
    settings = Settings(
        data_dir=root / "data",
        database_url=f"sqlite:///{root / 'inspector.db'}",
        redis_url=REDIS_URL,
        timezone="Asia/Shanghai",
        queue=QueueSettings(name=queue_name),
    )
    db = Database(settings.database)
    db.upgrade()
    redis = connect_redis(REDIS_URL)
    workdir = root / "recordings"
    workdir.mkdir()
    calls, agents_of = seed(settings, db, workdir)

    app = create_app(settings, database=db, redis=redis)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "the test server did not start"
        assert time.monotonic() < deadline, "the test server did not start within 30 s"
        time.sleep(0.05)
    try:
        yield Site(f"http://localhost:{port}", settings, db, calls, agents_of)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        for key in redis.scan_iter(match=f"*{queue_name}*"):
            redis.delete(key)
        redis.close()
        db.dispose()


# --- browser -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"browser tests need Debian's Chromium at {CHROMIUM}: apt-get install -y chromium "
                    "(.ci/run installs it when missing)", pytrace=False)  # fmt: skip
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _has_chinese_font() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return False
    return found.returncode == 0 and bool(found.stdout.strip())


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if _has_chinese_font():
        DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return DOCS_SCREENSHOTS
    return tmp_path_factory.mktemp("screenshots")


# Counts the colours of a PNG (given as base64) in the browser itself: no imaging library needed.
_PNG_STATS_JS = """async (data) => {
  const image = new Image();
  image.src = 'data:image/png;base64,' + data;
  await image.decode();
  const canvas = document.createElement('canvas');
  canvas.width = image.width; canvas.height = image.height;
  const context = canvas.getContext('2d');
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, image.width, image.height).data;
  const colours = new Map();
  for (let i = 0; i < pixels.length; i += 4 * 7) {
    const key = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    colours.set(key, (colours.get(key) || 0) + 1);
  }
  const samples = Math.ceil(pixels.length / 28);
  const top = Math.max(...colours.values());
  return {width: image.width, height: image.height, colours: colours.size, dominant: top / samples};
}"""


def check_png(path: Path, browser: Any) -> dict[str, Any]:
    """``path`` is a 1366×768 PNG with real content (many colours, no single colour covering it all)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"]), (path, width, height)
    assert len(data) > 8_000, f"{path} is suspiciously small ({len(data)} bytes)"
    page = browser.new_page()  # about:blank: no network, no CSP
    try:
        stats = page.evaluate(_PNG_STATS_JS, base64.b64encode(data).decode())
    finally:
        page.close()
    assert stats["colours"] > 40, (path, stats)
    assert stats["dominant"] < 0.97, (path, stats)
    return stats


@dataclass
class Ui:
    """One logged-out browser context at 1366×768 on the test site, with its network guard."""

    site: Site
    context: Any
    page: Any
    browser: Any
    screenshot_dir: Path
    external: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def url(self, hash_route: str = "") -> str:
        return f"{self.site.base_url}/ui/{hash_route}"

    def goto(self, hash_route: str) -> None:
        self.page.goto(self.url(hash_route))

    def login(self, username: str, password: str = PASSWORD) -> Any:
        from playwright.sync_api import expect

        page = self.page
        page.goto(self.url("#/login"))
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        expect(page.locator("#topbar")).to_be_visible()
        expect(page.locator("#user-name")).to_have_text(USERS[username][1])
        return page

    def shot(self, name: str) -> Path:
        path = self.screenshot_dir / f"{name}.png"
        self.page.mouse.move(2, VIEWPORT["height"] - 2)  # no hover effect in the picture
        self.page.wait_for_timeout(150)  # let the last paint land
        self.page.screenshot(path=str(path))
        check_png(path, self.browser)
        return path

    def api(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A fetch from the page, as the logged-in user (cookie + CSRF token): {status, body}."""
        return self.page.evaluate(
            """async ([method, path, body]) => {
                const me = await fetch('/api/v1/auth/me', {credentials: 'same-origin'});
                const csrf = me.ok ? (await me.json()).csrf_token : null;
                const headers = {'Content-Type': 'application/json'};
                if (csrf) headers['X-CSRF-Token'] = csrf;
                const response = await fetch('/api/v1' + path, {method, headers, credentials: 'same-origin',
                    body: body === null ? undefined : JSON.stringify(body)});
                let data = null;
                try { data = await response.json(); } catch (e) { data = null; }
                return {status: response.status, body: data};
            }""",
            [method, path, body],
        )

    def assert_clean(self) -> None:
        assert not self.external, f"requests left the machine: {self.external}"
        assert not self.page_errors, f"JavaScript errors: {self.page_errors}"
        policy = [e for e in self.console_errors if "Content Security Policy" in e or "Refused to" in e]
        assert not policy, f"blocked by the page's policy: {policy}"


@pytest.fixture
def make_ui(site: Site, browser: Any, screenshot_dir: Path) -> Iterator[Callable[[], Ui]]:
    """A factory of fresh browser contexts (one per person in a test); every one is checked at the end."""
    made: list[Ui] = []

    def make() -> Ui:
        context = browser.new_context(viewport=VIEWPORT, locale="zh-CN", timezone_id="Asia/Shanghai",
                                      device_scale_factor=1)  # fmt: skip
        context.set_default_timeout(10_000)
        ui = Ui(site, context, None, browser, screenshot_dir)

        def guard(route: Any) -> None:
            host = urlsplit(route.request.url).hostname or ""
            if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
                route.continue_()
            else:
                ui.external.append(route.request.url)
                route.abort("blockedbyclient")

        context.route("**/*", guard)
        ui.page = context.new_page()
        ui.page.on("pageerror", lambda error: ui.page_errors.append(str(error)))
        ui.page.on("console", lambda msg: ui.console_errors.append(msg.text) if msg.type == "error" else None)
        made.append(ui)
        return ui

    yield make
    try:
        for ui in made:
            ui.assert_clean()
    finally:
        for ui in made:
            ui.context.close()


@pytest.fixture
def ui(make_ui: Callable[[], Ui]) -> Ui:
    return make_ui()
