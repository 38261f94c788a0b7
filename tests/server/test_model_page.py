"""The model page (``GET /``) in a real headless Chromium, against a real server process.

Debian's ``chromium`` and ``chromium-driver`` (``/usr/bin/chromium``, ``/usr/bin/chromedriver``),
driven by Selenium, never a browser a tool downloads. Without them the browser tests skip, unless
``MLSERVE_TEST_REQUIRE_BROWSER=1`` (CI sets it), which makes a missing browser a failure.
``MLSERVE_UPDATE_SCREENSHOT=1`` also writes the page's screenshot to docs/img/model-page.png.

A hostile model sits beside the seed model: markup and script in its column names, param name and
default, metadata and input example. The page must show them as text and run none of it.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from .helpers import start_server

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("MLSERVE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("MLSERVE_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")
DOCS_SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "model-page.png"

# Each payload, if it ever ran, would set window.__pwned: the browser tests assert it never does
HOSTILE_COLUMN = '<img src=x onerror="window.__pwned=1">'
HOSTILE_PARAM = "</td></textarea><script>window.__pwned=2</script>"
HOSTILE_DEFAULT = '"><script>window.__pwned=3</script>'
HOSTILE_METADATA = "</pre><script>window.__pwned=4</script>"
HOSTILE_VALUE = "</textarea><script>window.__pwned=5</script>'$(touch /tmp/x)"
HOSTILE_NAME = "hostile"  # -m allows [A-Za-z0-9_.-] only; the page escapes names all the same

# a python_function model that counts its rows, compiled as __main__ (stored by value)
COUNT_SOURCE = """
def predict(model_input):
    return [1.0] * len(model_input)
"""


def _count_function():  # type: ignore[no-untyped-def]
    namespace: dict[str, object] = {"__name__": "__main__"}
    exec(compile(COUNT_SOURCE, "<count model>", "exec"), namespace)
    return namespace["predict"]


@pytest.fixture(scope="module")
def hostile_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import pandas as pd

    import mlserve
    from mlserve.schema import infer_signature

    example = pd.DataFrame({HOSTILE_COLUMN: [HOSTILE_VALUE], "n": [1.5]})
    signature = infer_signature(example, None, params={HOSTILE_PARAM: HOSTILE_DEFAULT})
    path = tmp_path_factory.mktemp("models") / "hostile"
    mlserve.save_model(
        _count_function(),
        path,
        flavor="python_function",
        signature=signature,
        input_example=example,
        metadata={"description": HOSTILE_METADATA},
    )
    return path


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, typed_model_dir: Path, hostile_model_dir: Path):  # type: ignore[no-untyped-def]
    with start_server(
        tmp_path_factory.mktemp("page"),
        "-m",
        f"MyRandomForest={typed_model_dir}",
        "-m",
        f"{HOSTILE_NAME}={hostile_model_dir}",
    ) as server:
        yield server.url


# --- over plain HTTP: what the server sends --------------------------------------------------


def test_the_page_is_html_with_a_policy_that_runs_only_its_own_script(url: str) -> None:
    answer = requests.get(f"{url}/", timeout=10)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = answer.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "connect-src 'self'" in policy
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    html = answer.text
    assert html.count("<script>") == 1  # the page's own, and nothing from a model file
    assert "http://" not in html.replace("http://127.0.0.1:5000", "").replace(
        "https://mlflow.org", ""
    )  # nothing loaded from elsewhere
    for payload in (HOSTILE_COLUMN, HOSTILE_PARAM, HOSTILE_DEFAULT, HOSTILE_METADATA):
        assert payload not in html
    assert "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;" in html
    assert requests.head(f"{url}/", timeout=10).content == b""


# --- in Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    required = os.environ.get("MLSERVE_TEST_REQUIRE_BROWSER") == "1"
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if shutil.which(p) is None]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (the dev extra)")
    if missing:
        message = f"no browser to test the page in: {', '.join(missing)} missing"
        if required:
            pytest.fail(f"{message}; MLSERVE_TEST_REQUIRE_BROWSER=1 says it must be there")
        pytest.skip(f"{message} (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,1500",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def _wait(predicate: Any, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting in the browser")


def _section(browser: Any, index: int) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, "section.model")[index]


def test_the_page_shows_the_model_and_its_signature(browser: Any, url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/")
    assert browser.title == f"mlserve: MyRandomForest, {HOSTILE_NAME}"
    section = _section(browser, 0)
    assert section.find_element(By.TAG_NAME, "h2").text == "MyRandomForest"
    facts = section.find_element(By.TAG_NAME, "dl").text
    assert "Flavor\nsklearn" in facts and "Invocations URL\n/invocations" in facts
    rows = [
        [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        for tr in section.find_elements(By.CSS_SELECTOR, "table.inputs tbody tr")
    ]
    assert rows == [[c, "double", "yes"] for c in "abcd"]
    curl = section.find_element(By.CSS_SELECTOR, "pre.curl").text
    assert curl.startswith(f"curl -s {url}/invocations -H 'Content-Type: application/json' -d '")
    assert browser.execute_script("return document.scripts.length") == 1


def test_the_form_sends_the_example_and_shows_the_predictions(
    browser: Any, url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(f"{url}/")
    section = _section(browser, 0)
    body = section.find_element(By.NAME, "body").get_property("value")
    expected = requests.post(
        f"{url}/invocations",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
        timeout=10,
    ).json()
    section.find_element(By.CSS_SELECTOR, "form.try button[type=submit]").click()
    status = _wait(lambda: section.find_element(By.CLASS_NAME, "status").text.startswith("200"))
    assert status
    shown = section.find_element(By.CLASS_NAME, "output").text
    assert json.loads(shown) == expected and len(expected["predictions"]) == 2
    shot = tmp_path / "model-page.png"
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("MLSERVE_UPDATE_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, DOCS_SCREENSHOT)
    # the CSV form of the same example gets the same answer
    Select(section.find_element(By.NAME, "content_type")).select_by_value("text/csv")
    csv = section.find_element(By.NAME, "body").get_property("value")
    assert csv.splitlines()[0] == "a,b,c,d"
    section.find_element(By.CSS_SELECTOR, "form.try button[type=submit]").click()
    _wait(
        lambda: (
            section.get_attribute("data-last-status") == "200"
            and "ms" in section.find_element(By.CLASS_NAME, "status").text
        )
    )
    assert json.loads(section.find_element(By.CLASS_NAME, "output").text) == expected


def test_an_error_answer_is_shown_too(browser: Any, url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/")
    section = _section(browser, 0)
    textarea = section.find_element(By.NAME, "body")
    textarea.clear()
    textarea.send_keys('{"dataframe_split": {"columns": ["a"], "data": [["x"]]}}')
    section.find_element(By.CSS_SELECTOR, "form.try button[type=submit]").click()
    _wait(lambda: section.get_attribute("data-last-status") == "400")
    assert (
        '"error_code": "INVALID_PARAMETER_VALUE"'
        in section.find_element(By.CLASS_NAME, "output").text
    )


def test_a_hostile_model_file_shows_as_text_and_runs_nothing(browser: Any, url: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{url}/")
    section = _section(browser, 1)
    assert section.find_element(By.TAG_NAME, "h2").text == HOSTILE_NAME
    names = [td.text for td in section.find_elements(By.CSS_SELECTOR, "table.inputs td")]
    assert HOSTILE_COLUMN in names
    params = section.find_element(By.CSS_SELECTOR, "table.params").text
    assert HOSTILE_PARAM in params
    assert section.find_element(By.CSS_SELECTOR, "pre.metadata").text.count(HOSTILE_METADATA) == 1
    assert HOSTILE_VALUE in section.find_element(By.NAME, "body").get_property("value")
    # the form posts to the model's own URL, its name escaped into the path
    section.find_element(By.CSS_SELECTOR, "form.try button[type=submit]").click()
    _wait(lambda: section.get_attribute("data-last-status") == "200")
    assert '"predictions"' in section.find_element(By.CLASS_NAME, "output").text
    assert browser.execute_script("return window.__pwned === undefined")
    assert browser.execute_script("return document.scripts.length") == 1
    assert browser.find_elements(By.CSS_SELECTOR, "img") == []
    # the curl line quotes the example for a POSIX shell: a quote inside it is closed and escaped
    curl = section.find_element(By.CSS_SELECTOR, "pre.curl").text
    assert "'\\''$(touch /tmp/x)" in curl
