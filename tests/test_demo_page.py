"""The service's demo page in a real browser (Debian's headless chromium, driven by selenium):
type a text, press the button, read the label and one bar per class; nothing is fetched from
outside the service, so the page works offline."""

from __future__ import annotations

import os
import shutil

import pytest
from conftest import serving
from fixtures import CLASSES
from test_serve import model_folder, post  # noqa: F401 (model_folder: a fixture)

CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and DRIVER):
    # .ci/run installs both and sets TEXTCLF_BROWSER_TESTS=required: there, a missing browser
    # fails instead of skipping
    if os.environ.get("TEXTCLF_BROWSER_TESTS") == "required":
        raise RuntimeError(
            "chromium and chromedriver are required (apt install chromium chromium-driver)"
        )
    pytest.skip("no chromium here: apt install chromium chromium-driver", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def test_demo_page_classifies_a_typed_text_with_a_bar_per_class(browser, model_folder):  # noqa: F811
    text = "Stocks rally as oil prices fall"
    with serving(model_folder) as url:
        browser.get(url + "/")
        assert browser.title == "textclf"
        box = browser.find_element(By.ID, "text")
        box.send_keys(text)
        browser.find_element(By.ID, "classify").click()
        WebDriverWait(browser, 60).until(
            expected_conditions.presence_of_all_elements_located((By.CSS_SELECTOR, "#bars .row"))
        )
        label = browser.find_element(By.ID, "label").text
        rows = browser.find_elements(By.CSS_SELECTOR, "#bars .row")
        _, answer = post(url, {"texts": [text]})
        # every resource the page loaded came from the service itself
        resources = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
    expected = answer["predictions"][0]
    assert label == expected["label"]
    assert sorted(row.get_attribute("data-class") for row in rows) == sorted(CLASSES)
    shown = {
        row.get_attribute("data-class"): float(row.get_attribute("data-score")) for row in rows
    }
    assert shown == pytest.approx(expected["probabilities"], abs=1e-6)
    widths = [row.find_element(By.CSS_SELECTOR, ".fill").get_attribute("style") for row in rows]
    assert all("width" in width for width in widths)
    assert all(name.startswith(url) for name in resources), resources
