"""End to end in a real browser: Debian's Chromium, headless, driven by selenium through chromedriver.

Loads the overview from the real board (uvicorn on 127.0.0.1, a database with known content), follows
a link to a commitment page, finds its timeline and chart, and saves screenshots. With
``TRADE_MONITOR_SCREENSHOTS=docs`` the screenshots of every page are written there for the README.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.config import load_config
from monitor.store import Store
from monitor.web import Board, WebServer
from tests.web_fixtures import build_board_db

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install -y chromium chromium-driver)",
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """The board in a thread of its own, so the browser (blocking calls) can talk to it."""
    config_dir, url = build_board_db(tmp_path)
    config = load_config(config_dir)
    store = Store(url)
    loop = asyncio.new_event_loop()
    web = WebServer(Board(config=lambda: config, store=store), "127.0.0.1", 0, token="browser-test-token")
    loop.run_until_complete(web.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield web.url
    finally:
        asyncio.run_coroutine_threadsafe(web.close(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
        store.close()


def test_overview_to_commitment_page_in_chromium(served: str, tmp_path: Path) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    shots = Path(os.environ.get("TRADE_MONITOR_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    try:
        driver.get(f"{served}/")
        assert driver.title.startswith("Commitments")
        statuses = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "tbody .status")]
        assert statuses == ["in progress", "fulfilled", "delayed", "pending"]
        driver.save_screenshot(str(shots / "board-overview.png"))

        driver.find_element(By.LINK_TEXT, "China buys 12 million tons of US soybeans").click()
        assert driver.current_url == f"{served}/commitments/cn-soybeans"
        timeline = driver.find_element(By.CSS_SELECTOR, "ol.timeline")
        items = timeline.find_elements(By.TAG_NAME, "li")
        assert len(items) == 3 and "usda.gov" in items[0].text and "first purchases" in items[1].text
        chart = driver.find_element(By.CSS_SELECTOR, "svg.chart")
        assert chart.size["width"] > 300 and chart.find_elements(By.CSS_SELECTOR, "polyline.reported")
        assert chart.find_elements(By.CSS_SELECTOR, "line.pace")
        driver.save_screenshot(str(shots / "board-commitment.png"))
        assert (shots / "board-commitment.png").stat().st_size > 10_000

        driver.get(f"{served}/commitments/us-fentanyl-tariff-cut")
        assert "Corroborated by 2 publishers" in driver.page_source
        driver.save_screenshot(str(shots / "board-timeline.png"))
        for path, name in (("/sources", "board-sources.png"), ("/alerts", "board-alerts.png")):
            driver.get(f"{served}{path}")
            assert driver.find_elements(By.CSS_SELECTOR, "tbody tr")
            driver.save_screenshot(str(shots / name))
    finally:
        driver.quit()
