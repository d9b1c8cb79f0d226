"""Loads a page from a file URL in headless Chromium through ChromeDriver (Debian's packages)
and prints what it shows as JSON; writes a screenshot of the whole page. See browser-check."""

import json
import pathlib
import sys
import tempfile

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

page, screenshot = pathlib.Path(sys.argv[1]).resolve(), sys.argv[2]
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
# The flags a closed network and a root user need: no sandbox, no GPU, no calls home.
for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--window-size=1366,900", f"--user-data-dir={tempfile.mkdtemp(prefix='browser-check-')}"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    driver.get(page.as_uri())
    # Every image finished (decoded or failed) before anything is counted.
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "Promise.all([...document.images].map(i => i.decode().catch(() => null))).then(() => done());")
    facts = driver.execute_script(
        "return {"
        " title: document.title,"
        " images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, naturalWidth: i.naturalWidth})),"
        " tables: document.querySelectorAll('table').length,"
        " figures: document.querySelectorAll('figure').length,"
        " marks: document.querySelectorAll('td .mark').length,"
        " height: document.documentElement.scrollHeight,"
        " widestTable: Math.max(0, ...[...document.querySelectorAll('table')].map(t => t.scrollWidth)),"
        "};")
    logs = driver.get_log("browser")
    facts["console_errors"] = [e["message"] for e in logs if e.get("level") == "SEVERE"]
    # The whole page in one picture, at a laptop's width.
    driver.set_window_size(1366, min(facts["height"] + 100, 16000))
    driver.save_screenshot(screenshot)
    print(json.dumps(facts))
finally:
    driver.quit()
