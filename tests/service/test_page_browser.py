"""The page at `/` in a real browser: Debian's Chromium, headless, driven by chromedriver through selenium, over a
real uvicorn server with the bundled demo model (real speech in, the right words out).

Upload a long file and see the API's transcript as segments with their times; upload without the key and be sent
to the key box; record, and stream live, through Chromium's fake microphone (which plays a fixture sentence framed
by silence) and see that sentence's words. One browser serves the module; a screenshot of each view is saved under
artifacts/ and its path printed.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jiwer
import numpy as np
import pytest
import soundfile

from bench.joined_audio import join_utterances
from bench.live_server import serve
from service import Settings, create_app

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
FESTIVAL = REPO_ROOT / "tests" / "fixtures" / "festival"
ARTIFACTS = REPO_ROOT / "artifacts"
KEY = "sk-page-test-77"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WAIT_S = 120
OTHER_HOST = "asr-server.test"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver (scripts/test.sh)"
)

with open(FESTIVAL / "transcripts.tsv", newline="") as manifest:
    EXPECTED = {name: text for name, text in csv.reader(manifest, delimiter="\t")}
UPLOADED = "eval_festival-festival-007902.wav"
RECORDED = "eval_festival-festival-007904.wav"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The gateway over the bundled demo model, with an API key the page must send."""
    with serve(create_app(Settings(api_keys=[KEY]))) as url:
        yield url


@pytest.fixture(scope="module")
def microphone_wav(tmp_path_factory) -> Path:
    """The sentence the fake microphone plays: silence before (the page's start-up) and after (the last word's end)."""
    samples, rate_hz = soundfile.read(FESTIVAL / RECORDED, dtype="int16")
    silence = np.zeros(rate_hz // 2, dtype=np.int16)
    path = tmp_path_factory.mktemp("microphone") / "sentence.wav"
    soundfile.write(path, np.concatenate([silence, samples, silence, silence, silence]), rate_hz, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory) -> Path:
    """About 20 s of festival sentences and digits with pauses between them: several segments."""
    joined = join_utterances(duration_s=20.0, seed=3)
    path = tmp_path_factory.mktemp("long") / "long-talk.wav"
    soundfile.write(path, joined.samples, 16_000, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def browser(microphone_wav) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module, its fake microphone playing `microphone_wav`."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    user_data_dir = tempfile.mkdtemp(prefix="chromium-profile-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={user_data_dir}",
        "--window-size=1100,900",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_wav}",
        f"--host-resolver-rules=MAP {OTHER_HOST} 127.0.0.1",  # the server as another machine sees it: plain http
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(user_data_dir, ignore_errors=True)


@pytest.fixture
def page(browser, base_url):
    """The page freshly loaded, with the API key typed in its box."""
    browser.get(base_url + "/")
    _type_key(browser, KEY)
    return browser


def _type_key(driver, key: str) -> None:
    box = driver.find_element(By.ID, "api-key")
    box.clear()
    if key:
        box.send_keys(key)
    driver.execute_script("document.getElementById('api-key').dispatchEvent(new Event('change'))")


def _api(base_url: str, path: Path) -> dict:
    """Returns the OpenAI route's verbose transcript of `path` (segments and words), as any client gets it."""
    auth = {"Authorization": f"Bearer {KEY}"}
    model = httpx.get(f"{base_url}/v1/models", headers=auth).json()["data"][0]["id"]
    response = httpx.post(
        f"{base_url}/v1/audio/transcriptions",
        files={"file": (path.name, path.read_bytes())},
        data={"model": model, "response_format": "verbose_json", "timestamp_granularities[]": ["word", "segment"]},
        headers=auth,
        timeout=120,
    )
    response.raise_for_status()
    return response.json()


def _transcript(driver) -> str:
    WebDriverWait(driver, WAIT_S).until(
        lambda d: (
            d.find_element(By.ID, "transcript").get_attribute("data-text") is not None
            or "error" in d.find_element(By.ID, "status").get_attribute("class")
        )
    )
    status = driver.find_element(By.ID, "status")
    assert "error" not in status.get_attribute("class"), status.text
    return driver.find_element(By.ID, "transcript").get_attribute("data-text")


def _screenshot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    print(f"\nscreenshot: {path}")
    return path


def _clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def test_a_long_upload_reads_as_segments_with_their_times(page, base_url, long_wav):
    reference = _api(base_url, long_wav)
    page.find_element(By.ID, "file").send_keys(str(long_wav))
    assert _transcript(page) == reference["text"]
    segments = page.find_elements(By.CSS_SELECTOR, "#transcript .segment")
    assert len(reference["segments"]) >= 3
    # One paragraph per segment, led by its start time, holding that segment's words.
    assert [s.find_element(By.CLASS_NAME, "time").text for s in segments] == [
        _clock(segment["start"]) for segment in reference["segments"]
    ]
    assert [" ".join(w.text for w in s.find_elements(By.CLASS_NAME, "word")) for s in segments] == [
        segment["text"] for segment in reference["segments"]
    ]
    # A segment's time and any word seek the player to where they start.
    player_time = "return document.getElementById('player').currentTime"
    segments[2].find_element(By.CLASS_NAME, "time").click()
    assert page.execute_script(player_time) == pytest.approx(reference["segments"][2]["start"], abs=0.3)
    word = segments[1].find_elements(By.CLASS_NAME, "word")[-1]
    word.click()
    assert page.execute_script(player_time) == pytest.approx(float(word.get_attribute("data-start")), abs=0.3)
    assert _screenshot(page, "page-upload.png").stat().st_size > 10_000


@pytest.mark.parametrize("way_in", ["upload", "live"])
def test_a_missing_key_sends_the_user_to_the_key_box(page, way_in):
    _type_key(page, "")
    if way_in == "upload":
        page.find_element(By.ID, "file").send_keys(str(FESTIVAL / UPLOADED))
    else:
        page.find_element(By.ID, "live").click()  # the stream refuses it with close code 4401
    status = page.find_element(By.ID, "status")
    WebDriverWait(page, WAIT_S).until(lambda d: "error" in status.get_attribute("class"))
    assert "API key box" in status.text and "401" not in status.text, status.text
    assert page.switch_to.active_element.get_attribute("id") == "api-key"
    assert page.find_element(By.ID, "live").text == "Live"


def test_recording_from_the_microphone_transcribes_what_was_said(page, microphone_wav):
    record = page.find_element(By.ID, "record")
    record.click()
    WebDriverWait(page, 10).until(lambda d: record.text == "Stop")
    time.sleep(soundfile.info(str(microphone_wav)).duration)
    record.click()
    heard = _transcript(page)
    print(f"\nrecorded: {heard!r}; said: {EXPECTED[RECORDED]!r}")
    # The fake microphone loops the file from an arbitrary point: every word said must be heard, in some order.
    said = EXPECTED[RECORDED].split()
    assert sum(word in heard.split() for word in said) >= 0.7 * len(said), heard
    _screenshot(page, "page-recording.png")


_PARTIAL_TEXTS = "return Array.from(document.querySelectorAll('#transcript .partial'), (p) => p.textContent)"


def test_live_mode_streams_the_microphone_and_shows_partials_then_finals(page, base_url, microphone_wav):
    offline = _api(base_url, microphone_wav)["text"]
    live = page.find_element(By.ID, "live")
    live.click()
    WebDriverWait(page, 10).until(lambda d: live.text == "Stop live")
    assert not page.find_element(By.ID, "record").is_enabled()  # one microphone user at a time
    partials_seen: set[str] = set()
    deadline = time.monotonic() + soundfile.info(str(microphone_wav)).duration
    while time.monotonic() < deadline:
        partials_seen.update(page.execute_script(_PARTIAL_TEXTS))  # in one call: partials replace each other
        time.sleep(0.1)
    live.click()
    heard = _transcript(page)
    print(f"\nlive: {heard!r}; partials: {sorted(partials_seen)!r}; offline: {offline!r}")
    assert partials_seen, "no partial was shown while the sentence was spoken"
    # docs/streaming.md's bound between a stream's finals and the offline transcript of the same audio.
    assert jiwer.wer(offline, heard) <= 0.25, heard
    assert not page.find_elements(By.CSS_SELECTOR, "#transcript .segment.partial")
    assert page.find_element(By.ID, "live").text == "Live" and page.find_element(By.ID, "record").is_enabled()
    _screenshot(page, "page-live.png")


@pytest.mark.parametrize("button", ["record", "live"])
def test_over_plain_http_from_another_machine_the_microphone_buttons_say_why_they_cannot(browser, base_url, button):
    # Browsers give the microphone only to https pages and localhost; a LAN address over http gets none.
    browser.get(base_url.replace("127.0.0.1", OTHER_HOST) + "/")
    browser.find_element(By.ID, button).click()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 10).until(lambda d: "error" in status.get_attribute("class"))
    assert "https or on localhost" in status.text, status.text
    assert browser.find_element(By.ID, button).text in ("Record", "Live")
