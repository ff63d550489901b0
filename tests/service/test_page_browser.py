"""The page at `/` in a real browser: Debian's Chromium, headless, driven by chromedriver through selenium, over a
real uvicorn server with the bundled demo model (real speech in, the right words out).

Upload a festival fixture and see the transcript the API gives for it; record through Chromium's fake microphone
(which plays a fixture WAV) and see that sentence's words. A screenshot of each is saved under artifacts/ and its
path printed.
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
import pytest

from service import Settings, create_app
from tests.service.live_server import serve

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


def _browser(*extra_flags: str):
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
        *extra_flags,
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    return driver, user_data_dir


@pytest.fixture
def open_page(base_url):
    """Gives a function that opens the page in a fresh headless Chromium (with extra flags) and types the key."""
    opened = []

    def open_(*flags: str):
        driver, profile = _browser(*flags)
        opened.append((driver, profile))
        driver.get(base_url + "/")
        driver.find_element(By.ID, "api-key").send_keys(KEY)
        driver.execute_script("document.getElementById('api-key').dispatchEvent(new Event('change'))")
        return driver

    yield open_
    for driver, profile in opened:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


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


def test_upload_shows_the_apis_transcript_with_clickable_words(open_page, base_url):
    reference = httpx.post(
        f"{base_url}/v1/transcribe",
        files={"file": (UPLOADED, (FESTIVAL / UPLOADED).read_bytes())},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=120,
    ).json()["text"]
    driver = open_page()
    driver.find_element(By.ID, "file").send_keys(str(FESTIVAL / UPLOADED))
    assert _transcript(driver) == reference
    assert jiwer.wer(EXPECTED[UPLOADED], reference) <= 0.34  # the demo model hears the sentence
    words = driver.find_elements(By.CSS_SELECTOR, "#transcript .word")
    assert [w.text for w in words] == reference.split()
    # Clicking a word seeks the player to that word's start.
    target = words[len(words) // 2]
    target.click()
    position = driver.execute_script("return document.getElementById('player').currentTime")
    assert position == pytest.approx(float(target.get_attribute("data-start")), abs=0.3)
    assert _screenshot(driver, "page-upload.png").stat().st_size > 10_000


def test_recording_from_the_microphone_transcribes_what_was_said(open_page):
    driver = open_page(
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={FESTIVAL / RECORDED}",
    )
    import soundfile

    duration_s = soundfile.info(str(FESTIVAL / RECORDED)).duration
    record = driver.find_element(By.ID, "record")
    record.click()
    WebDriverWait(driver, 10).until(lambda d: record.text == "Stop")
    time.sleep(duration_s + 0.3)
    record.click()
    heard = _transcript(driver)
    print(f"\nrecorded: {heard!r}; said: {EXPECTED[RECORDED]!r}")
    # The fake microphone loops the file from an arbitrary point: every word said must be heard, in some order.
    said = EXPECTED[RECORDED].split()
    assert sum(word in heard.split() for word in said) >= 0.7 * len(said), heard
    _screenshot(driver, "page-recording.png")
