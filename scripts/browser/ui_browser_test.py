#!/usr/bin/env python3
"""Drives `judgepanel ui` in real headless Chromium (selenium + Debian's chromium-driver).

usage: ui_browser_test.py JUDGEPANEL_BIN WORKDIR [--screenshots DOCS_DIR]

Checks: a request without the token gets 403; the Label view's DOM holds no model name, judge name or verdict;
10 items labelled by keyboard; the server killed and restarted (a new token); 5 more labelled -> labels.jsonl holds
15 lines, each in the dataset's orientation with the shown order recorded; hostile HTML in a candidate does not
execute (the page title stays, the markup shows as text); the Explore view filters the run and opens an item.
"""
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

BIN, WORK = sys.argv[1], sys.argv[2]
SHOTS = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
RUN = os.path.join(WORK, "run")
LABELS = os.path.join(RUN, "labels.jsonl")
SECRETS = ["secret-model-x", "secret-model-y", "judge-alpha", "judge-beta", "judge-gamma"]


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def start_server():
    p = subprocess.Popen([BIN, "ui", RUN, "--port", "0", "--annotator", "browser-test"],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        line = p.stdout.readline()
        if not line:
            fail("ui exited before printing its URL (code %s)" % p.poll())
        if line.startswith("http://"):
            return p, line.strip()
    fail("no URL printed")


def status_of(url):
    try:
        return urllib.request.urlopen(url, timeout=10).status
    except urllib.error.HTTPError as e:
        return e.code


def browser():
    o = Options()
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        o.add_argument(a)
    o.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)


def progress(d):
    return d.find_element(By.ID, "progress-text").text


def label_n(d, n, pressed):
    body = d.find_element(By.TAG_NAME, "body")
    keys = ["a", "b", "t"]
    for k in range(n):
        before = progress(d)
        first = d.find_element(By.ID, "l-first").text
        second = d.find_element(By.ID, "l-second").text
        item = first.split(":")[0].split(" ")[1]
        key = keys[len(pressed) % 3]
        pressed.append((item, key, first.startswith("ANSWER-A"), second))
        body.send_keys(key)
        WebDriverWait(d, 20).until(lambda d: progress(d) != before)


def main():
    if os.path.exists(LABELS):
        os.remove(LABELS)
    report = os.path.join(RUN, "report.html")
    if not os.path.exists(report):  # the synthetic run has no report: a minimal page stands in for it
        with open(report, "w") as f:
            f.write("<!doctype html><html><head><title>report</title></head><body><main><h1>Report</h1></main></body></html>")
    server, url = start_server()
    base = url.split("?")[0]
    t0 = time.time()
    if status_of(base) != 403 or status_of(base + "api/items") != 403:
        fail("a request without the token was not refused with 403")
    if status_of(base + "api/items?token=wrong") != 403:
        fail("a wrong token was not refused")
    print("ok: 403 without the token")
    d = browser()
    pressed = []
    try:
        label_url = url.split("#")[0] + "#label"
        d.get(label_url)
        WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "l-first").text.startswith("ANSWER"))
        html = d.page_source
        for s in SECRETS:
            if s in html:
                fail("the Label view's DOM shows %r" % s)
        if d.execute_script("return document.getElementById('list').tBodies[0].rows.length") != 0:
            fail("the Label view's DOM holds Explore rows")
        # The hostile item is first in the queue: its markup must be text, and must not have run.
        first = d.find_element(By.ID, "l-first").text + d.find_element(By.ID, "l-second").text
        if "<script>" not in first and "onerror" not in first:
            fail("the hostile candidate's markup is not shown as text")
        time.sleep(1)
        if d.title == "PWNED" or d.execute_script("return document.querySelectorAll('#label-item img, #label-item script, #label-item b').length") != 0:
            fail("hostile HTML in a candidate executed or was parsed")
        print("ok: blind Label view, hostile HTML inert")
        if SHOTS:
            d.save_screenshot(os.path.join(SHOTS, "ui-label.png"))
        label_n(d, 10, pressed)
        print("ok: 10 labels by keyboard (%s)" % progress(d))
    finally:
        d.quit()
    server.terminate()
    server.wait(timeout=30)
    lines = open(LABELS).read().splitlines()
    if len(lines) != 10:
        fail("after 10 labels and a kill the labels file has %d lines" % len(lines))
    server, url = start_server()
    d = browser()
    try:
        d.get(url.split("#")[0] + "#label")
        WebDriverWait(d, 30).until(lambda d: progress(d).startswith("10 /"))
        print("ok: resumed after restart (%s)" % progress(d))
        label_n(d, 5, pressed)
        # Explore: filter and open an item.
        d.get(url.split("#")[0] + "#explore")
        WebDriverWait(d, 30).until(lambda d: "matching items" in d.find_element(By.ID, "list-info").text)
        renders = d.find_element(By.ID, "list-info").get_attribute("data-renders")
        d.find_element(By.ID, "f-flips").click()
        d.find_element(By.ID, "f-apply").click()
        WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "list-info").get_attribute("data-renders") != renders)
        info = d.find_element(By.ID, "list-info").text
        rows = d.find_elements(By.CSS_SELECTOR, "#list tbody tr")
        if not rows:
            fail("the flips filter matched nothing")
        rows[0].click()
        WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "detail").text.startswith("item "))
        detail = d.find_element(By.ID, "detail").text
        if "order AB" not in detail or "judge-" not in detail:
            fail("the opened item does not show its votes")
        print("ok: Explore filtered (%s) and opened an item" % info)
        if SHOTS:
            d.execute_script("window.scrollTo(0, 0)")
            d.save_screenshot(os.path.join(SHOTS, "ui-explore.png"))
        # The hostile item in Explore: its markup is text there too.
        d.get(url.split("#")[0] + "#item=item-000000")
        WebDriverWait(d, 30).until(lambda d: "item item-000000" in d.find_element(By.ID, "detail").text)
        time.sleep(1)
        if d.title == "PWNED" or d.execute_script("return document.querySelectorAll('#detail img, #detail script, #detail b').length") != 0:
            fail("hostile HTML executed in the Explore view")
        print("ok: hostile HTML inert in Explore")
        # The run's report, served by the UI, links into Explore (and Explore links back to it).
        token = url.split("token=")[1].split("#")[0]
        d.get(url.split("?")[0] + "report?token=" + token)
        bar = WebDriverWait(d, 30).until(lambda d: d.find_element(By.ID, "jp-ui-links"))
        if "judge-alpha" not in bar.text or not d.find_elements(By.TAG_NAME, "h1"):
            fail("the served report lacks its links or its own content: " + bar.text)
        bar.find_element(By.LINK_TEXT, "order flips").click()
        WebDriverWait(d, 30).until(lambda d: "matching items" in d.find_element(By.ID, "list-info").text)
        if not d.find_element(By.ID, "f-flips").is_selected():
            fail("the report's 'order flips' link did not open Explore filtered on flips")
        if d.find_element(By.ID, "list-info").text.split()[0] != info.split()[0]:
            fail("the report's flips link shows %s, the flips filter %s" % (d.find_element(By.ID, "list-info").text, info))
        if not d.find_element(By.ID, "nav-report").is_displayed():
            fail("Explore has no Report link for a run with report.html")
        print("ok: report.html served with links into Explore (order flips: %s)" % info.split()[0])
    finally:
        d.quit()
        server.terminate()
        server.wait(timeout=30)
    lines = [json.loads(l) for l in open(LABELS).read().splitlines()]
    if len(lines) != 15:
        fail("labels.jsonl has %d lines, expected 15" % len(lines))
    for (item, key, a_first, _), rec in zip(pressed, lines):
        if rec["item"] != item:
            fail("label for %s recorded as %s" % (item, rec["item"]))
        if rec["shown_order"] != ("AB" if a_first else "BA"):
            fail("%s: shown_order %s but response_%s was shown first" % (item, rec["shown_order"], "a" if a_first else "b"))
        want = "tie" if key == "t" else (("A" if a_first else "B") if key == "a" else ("B" if a_first else "A"))
        if rec["label"] != want:
            fail("%s: pressed %s with response_%s first, stored %s (want %s)" % (item, key, "a" if a_first else "b", rec["label"], want))
        if rec["annotator"] != "browser-test" or "p_select" not in rec or "seconds" not in rec:
            fail("%s: incomplete record %s" % (item, rec))
    print("ok: labels.jsonl holds 15 lines in the dataset's orientation with the shown order (%.1f s)" % (time.time() - t0))


if __name__ == "__main__":
    main()
