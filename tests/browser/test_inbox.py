"""The emulator's web inbox in headless Chromium.

Opens the page once, then sends through the C library (the acs_chat Python binding) and
waits, with a deadline, for what the page must show: the message, the typing indicator, the
read receipt, a refused call in the log; hostile content shown as text and never run; the
fault form and the reset button. A marker set on the page at the start must survive to the
end: nothing reloaded it. On failure the screenshot and the page's text go to
$ACS_BROWSER_ARTIFACTS.
"""

import base64
import json
import os
import socket
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

import acs_chat

WAIT_S = 10.0
POLL_S = 0.05
THREAD = "browser:inbox@thread.v2"
ARTIFACTS = os.environ.get("ACS_BROWSER_ARTIFACTS", "target/browser")

_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with _direct.open(req, timeout=timeout) as resp:
            text = resp.read()
    except urllib.error.HTTPError as err:
        text = err.read()
        raise AssertionError(f"{method} {url}: {err.code} {text[:500]!r}") from None
    return json.loads(text) if text else None


class WebDriver:
    """The few W3C WebDriver commands the test needs."""

    def __init__(self, driver_url, chromium):
        self.base = driver_url
        caps = {
            "capabilities": {
                "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": {
                        "binary": chromium,
                        "args": [
                            "--headless=new",
                            "--no-sandbox",
                            "--disable-gpu",
                            "--disable-dev-shm-usage",
                            "--no-first-run",
                            "--no-proxy-server",
                            "--window-size=1400,1000",
                        ],
                    },
                }
            }
        }
        self.session = http("POST", f"{self.base}/session", caps, timeout=60)["value"]["sessionId"]

    def _call(self, method, path, body=None):
        return http(method, f"{self.base}/session/{self.session}{path}", body)["value"]

    def get(self, url):
        self._call("POST", "/url", {"url": url})

    def run(self, script, *args):
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css):
        found = self._call("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def click(self, css):
        self._call("POST", f"/element/{self.find(css)}/click", {})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._call("GET", "/screenshot")))

    def quit(self):
        http("DELETE", f"{self.base}/session/{self.session}")


def wait_for(driver, script, what, *args):
    """Polls `script` (a function body returning a value) until it returns something truthy."""
    deadline = time.monotonic() + WAIT_S
    last = None
    while time.monotonic() < deadline:
        last = driver.run(script, *args)
        if last:
            return last
        time.sleep(POLL_S)
    raise AssertionError(f"not seen within {WAIT_S} s: {what} (last: {last!r})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_emulator():
    proc = subprocess.Popen(
        [os.environ["ACS_EMULATOR_BIN"], "--listen", "127.0.0.1:0", "--no-limits"],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline().strip()
    assert line.startswith("listening on "), line
    return proc, line[len("listening on "):]


def start_driver():
    port = free_port()
    proc = subprocess.Popen(
        [os.environ["CHROMEDRIVER"], f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if http("GET", f"{url}/status", timeout=2)["value"]["ready"]:
                return proc, url
        except (OSError, AssertionError):
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise AssertionError("chromedriver did not become ready")
        time.sleep(POLL_S)


# ---- the checks, in order, on one page ---------------------------------------------------------

def texts(selector):
    return f"return [...document.querySelectorAll({json.dumps(selector)})].map(e => e.textContent);"


def check_live_updates(driver, url, thread):
    result = thread.send_message("hello from the C library", sender_display_name="Alice",
                                 metadata={"ticket": "42"})
    card = f'.message[data-id="{result.id}"]'
    wait_for(driver, f"""
        const card = document.querySelector({json.dumps(card)});
        return card && card.querySelector('.content').textContent === 'hello from the C library'
            && card.querySelector('.sender').textContent === 'Alice'
            && card.querySelector('dl.metadata').textContent.includes('ticket')
            && card.querySelector('dl.metadata').textContent.includes('42');
    """, "the message, its sender and metadata")
    title = driver.run("return document.getElementById('thread-title').textContent;")
    assert title == THREAD, title

    thread.send_typing_notification(sender_display_name="Alice")
    wait_for(driver, "return document.getElementById('typing').textContent === 'Alice is typing\u2026';",
             "the typing indicator")

    thread.send_read_receipt(result.id)
    wait_for(driver, f"""
        const r = document.querySelector({json.dumps(card + ' .receipts')});
        return r && r.textContent === '\u2713 read by Alice';
    """, "the read receipt on its message")


def check_hostile_content(driver, thread):
    script_text = "<script>window.__pwned=1</script>"
    img_html = '<img src=x onerror="window.__pwned=2"><b>bold</b>'
    controls = "bell\u0007 and \u202eright-to-left"
    ids = {
        "script": thread.send_message(script_text).id,
        "img": thread.send_message(img_html, chat_message_type="html").id,
        "controls": thread.send_message(controls).id,
        "huge": thread.send_message("x" * 28000).id,
    }
    for name, message_id in ids.items():
        wait_for(driver, f"return !!document.querySelector('.message[data-id=\"{message_id}\"]');",
                 f"the {name} message")
    content = "return document.querySelector(`.message[data-id=\"${arguments[0]}\"] .content`)"
    shown = driver.run(content + ".textContent;", ids["script"])
    assert shown == script_text, shown
    assert driver.run(content + ".children.length;", ids["script"]) == 0
    # The html message: the image is a placeholder, the markup allowed through is kept,
    # and the source is there as text.
    assert driver.run(content + ".querySelector('img');", ids["img"]) is None
    assert driver.run(content + ".querySelector('b').textContent;", ids["img"]) == "bold"
    assert "[image]" in driver.run(content + ".textContent;", ids["img"])
    source = driver.run(
        "return document.querySelector(`.message[data-id=\"${arguments[0]}\"] pre.raw`).textContent;",
        ids["img"])
    assert source == img_html, source
    shown = driver.run(content + ".textContent;", ids["controls"])
    assert shown == "bell\u2407 and <U+202E>right-to-left", repr(shown)
    assert len(driver.run(content + ".textContent;", ids["huge"])) == 28000
    assert driver.run("return typeof window.__pwned;") == "undefined"
    assert driver.run("return document.querySelectorAll('script').length;") == 1


def check_refusals_and_controls(driver, url, endpoint, token):
    http("POST", f"{url}/_emulator/faults", {"threadId": THREAD, "op": "typing", "status": 400})
    strict = acs_chat.ChatClient(endpoint, token, retry_total=0)
    try:
        strict.get_chat_thread_client(THREAD).send_typing_notification()
        raise AssertionError("the scripted 400 was not raised")
    except acs_chat.HttpResponseError as err:
        assert err.status_code == 400, err
    finally:
        strict.close()
    wait_for(driver, """
        return [...document.querySelectorAll('#problems li')].some(li =>
            li.querySelector('.code').textContent === '400'
            && li.querySelector('.reason').textContent === 'fault: status 400');
    """, "the faulted call in the log")

    # The fault form queues a fault with the values on the page (any op, 503, once).
    driver.click("#fault-form button[type=submit]")
    wait_for(driver, "return document.getElementById('fault-result').textContent === 'Queued; 1 pending.';",
             "the fault form's answer")
    assert http("GET", f"{url}/_emulator/faults") == {"pending": 1}
    wait_for(driver, "return document.getElementById('settings').textContent.endsWith('pending faults 1');",
             "the pending count")

    driver.click("#reset")
    wait_for(driver, """
        return document.querySelectorAll('#threads li, #transcript li, #problems li').length === 0
            && !document.getElementById('no-threads').hidden;
    """, "the page emptied by the reset")
    assert http("GET", f"{url}/_emulator/faults") == {"pending": 0}
    assert http("GET", f"{url}/_emulator/threads/{urllib.parse.quote(THREAD, safe='')}/events") == {"events": []}


def main():
    os.makedirs(ARTIFACTS, exist_ok=True)
    started = time.monotonic()
    emulator, url = start_emulator()
    driver_proc, driver_url = start_driver()
    driver = None
    step = "opening the page"
    try:
        driver = WebDriver(driver_url, os.environ["CHROMIUM"])
        driver.get(url + "/")
        wait_for(driver, "return document.getElementById('status').textContent === 'live';",
                 "the live feed")
        driver.run("window.__loadedOnce = 'marker';")
        token = http("GET", f"{url}/_emulator/token?user=8%3Aacs%3Aalice")["token"]
        with acs_chat.ChatClient(url, token) as client:
            thread = client.get_chat_thread_client(THREAD)
            step = "live updates"
            check_live_updates(driver, url, thread)
            step = "hostile content"
            check_hostile_content(driver, thread)
        step = "refusals and controls"
        check_refusals_and_controls(driver, url, url, token)
        step = "no reload"
        assert driver.run("return window.__loadedOnce;") == "marker", "the page was reloaded"
        print(f"browser: the inbox passed every check in {time.monotonic() - started:.1f} s "
              f"({acs_chat.LIBRARY_PATH})")
        return 0
    except Exception:
        print(f"browser: failed at {step}", file=sys.stderr)
        traceback.print_exc()
        if driver is not None:
            try:
                shot = os.path.join(ARTIFACTS, "failure.png")
                driver.screenshot(shot)
                with open(os.path.join(ARTIFACTS, "failure.txt"), "w") as f:
                    f.write(driver.run("return document.body.innerText;"))
                print(f"browser: screenshot and page text in {ARTIFACTS}", file=sys.stderr)
            except Exception as err:  # the browser itself may be what failed
                print(f"browser: no screenshot: {err}", file=sys.stderr)
        return 1
    finally:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
        for proc in (driver_proc, emulator):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


if __name__ == "__main__":
    sys.exit(main())
