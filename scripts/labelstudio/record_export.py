#!/usr/bin/env python3
"""Records a real Label Studio JSON export for judgepanel's Label Studio round trip (fixtures/labelstudio/export.json).

Starts `label-studio` (PyPI) on 127.0.0.1 with a throw-away data directory, creates a project with the labelling
config `judgepanel label RUN --export label-studio tasks.json` wrote (tasks.xml), imports the tasks through the API,
annotates every task through the API — choosing, in the order the task shows the two responses, the answer that is
the item's reference label in the dataset's orientation, so that `judgepanel import label-studio` must give back the
items' own labels — and saves the project's JSON export.

usage: record_export.py TASKS.json CONFIG.xml ITEMS.jsonl OUT.json [--port 8765] [--data-dir DIR]
needs: pip install label-studio 'sentry-sdk<3' (in a venv; label-studio 1.23.2 fails to start with sentry-sdk 3.0.1,
"Unknown option 'send_default_pii'"); API calls follow https://labelstud.io/api (projects, import, annotations,
export). --data-dir reuses a data directory whose database is already migrated (the first start migrates it: minutes).
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request


def call(base, token, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Token " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        raw = r.read()
        return json.loads(raw) if raw else None


def main():
    args = sys.argv[1:]
    port = 8765
    if "--port" in args:
        i = args.index("--port")
        port = int(args[i + 1])
        del args[i:i + 2]
    data_dir = None
    if "--data-dir" in args:
        i = args.index("--data-dir")
        data_dir = args[i + 1]
        del args[i:i + 2]
    tasks_path, config_path, items_path, out_path = args
    tasks = json.load(open(tasks_path))
    config = open(config_path).read()
    gold = {}
    for line in open(items_path):
        if line.strip():
            o = json.loads(line)
            gold[str(o["id"])] = o.get("label")
    token = "judgepanel-recording-token-0001"
    data_dir = data_dir or tempfile.mkdtemp(prefix="ls-data-")
    env = dict(os.environ, LABEL_STUDIO_BASE_DATA_DIR=data_dir, LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN="true",
               DJANGO_DB="sqlite", LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK="false")
    ls = os.path.join(os.path.dirname(sys.executable), "label-studio")
    proc = subprocess.Popen(
        [ls, "start", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--data-dir", data_dir,
         "--username", "annotator@judgepanel.test", "--password", "judgepanel-pw-1", "--user-token", token],
        env=env, stdout=open(os.path.join(data_dir, "ls.log"), "w"), stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:%d" % port
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/health", timeout=2)
                break
            except Exception:
                time.sleep(1)
        else:
            raise SystemExit("label-studio did not start; see " + data_dir + "/ls.log")
        version = call(base, token, "GET", "/api/version")
        project = call(base, token, "POST", "/api/projects", {"title": "judgepanel round trip", "label_config": config})
        pid = project["id"]
        call(base, token, "POST", "/api/projects/%d/import" % pid, tasks)
        listed = call(base, token, "GET", "/api/tasks?project=%d&page_size=1000" % pid)
        listed = listed["tasks"] if isinstance(listed, dict) else listed
        for t in listed:
            d = t["data"]
            g = gold[d["item"]]
            if g == "tie":
                choice = "tie"
            else:
                first_is_a = d.get("shown_order", "AB") == "AB"
                choice = "1" if (g == "A") == first_is_a else "2"
            call(base, token, "POST", "/api/tasks/%d/annotations" % t["id"], {
                "result": [{"from_name": "preference", "to_name": "prompt", "type": "choices",
                            "value": {"choices": [choice]}}],
                "lead_time": 4.5, "was_cancelled": False})
        # The export can come back empty while the server is still writing it: ask again.
        export = None
        for _ in range(30):
            export = call(base, token, "GET", "/api/projects/%d/export?exportType=JSON" % pid)
            if export:
                break
            time.sleep(2)
        if not export or len(export) != len(listed):
            raise SystemExit("the export did not hold every task")
        with open(out_path, "w") as f:
            json.dump(export, f, indent=1, sort_keys=True)
            f.write("\n")
        print("label-studio %s: %d tasks annotated, export written to %s" % (
            version.get("release", version) if isinstance(version, dict) else version, len(listed), out_path))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


if __name__ == "__main__":
    main()
