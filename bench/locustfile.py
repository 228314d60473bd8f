"""Virtual patients for ``bench.load``: each fills in the whole questionnaire as a browser.

Run by ``bench/load.py`` (which starts gunicorn, runs this headless and checks
the database afterwards); not meant to be started by hand.

One task is one complete questionnaire by a new patient in a new browser:
GET step 1, then for each of the five steps POST the answers and follow the
redirect with a GET of the next page, ending with the GET of the confirmation
page, whose case reference is recorded with the patient's unique phone
number. Eleven requests, each timed on its own.

The app runs as in production behind a TLS proxy, so every request says
``X-Forwarded-Proto: https`` and carries the Origin/Referer a browser sends;
the cookies (all ``Secure``) are kept by hand, as a browser would keep them
for the https origin.

If the app answers 503 (the database is down: the "could not save" page for
a POST, the calm error page for a GET), the patient waits a second and presses
the button again, as the page asks, for up to ``BENCH_PATIENCE`` seconds,
then gives up. Every refusal and every give-up is recorded.
"""

import json
import os
import random
import re
import resource
import threading
import time
from http.cookiejar import DefaultCookiePolicy
from http.cookies import SimpleCookie

from locust import FastHttpUser, constant, events, task

from bench.patients import questionnaire, step_path
from tests.intake.questionnaire import STEP_ORDER

RESULTS_FILE = os.environ.get("BENCH_RESULTS", "")
PATIENCE = float(os.environ.get("BENCH_PATIENCE", "30"))
RUN_TAG = os.environ.get("BENCH_RUN_TAG", "1")
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE = re.compile(r'class="case-reference">(C-[A-Z0-9]+)<')
COULD_NOT_SAVE = "We could not save your answers just now"

_lock = threading.Lock()
_requests: list[tuple[str, float, int, float]] = []  # (name, ms, status, finished at)
_outcomes: list[dict] = []
_patient_numbers = iter(range(1, 10**7))


class GaveUp(Exception):
    pass


class VirtualPatient(FastHttpUser):
    wait_time = constant(0)
    # One connection per virtual browser, kept alive between its requests.
    concurrency = 1

    def on_start(self):
        self.rng = random.Random()  # noqa: S311 - fake patients
        self.origin = self.host.replace("http://", "https://")
        # Cookies are kept by hand (see the module docstring), never by the client.
        self.client.cookiejar.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def _send(self, method: str, path: str, name: str, data: dict | None = None):
        """One request with the browser's cookies; 503s are retried until patience runs out."""
        gave_up_at = time.monotonic() + PATIENCE
        while True:
            headers = {
                "X-Forwarded-Proto": "https",
                "Referer": self.origin + path,
                "Accept-Encoding": "gzip, br",
            }
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            if method == "POST":
                headers["Origin"] = self.origin
            started = time.perf_counter()
            with self.client.request(
                method,
                path,
                name=name,
                data=data,
                headers=headers,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                took = (time.perf_counter() - started) * 1000
                status = response.status_code or 0
                with _lock:
                    _requests.append((name, took, status, time.time()))
                for header in response.headers.get_all("Set-Cookie") or []:
                    for morsel in SimpleCookie(header).values():
                        if morsel["max-age"] == "0" or not morsel.value:
                            self.cookies.pop(morsel.key, None)
                        else:
                            self.cookies[morsel.key] = morsel.value
                body = response.text or ""
                if status == 503:
                    # The app could not reach the database: refused, with a clear page.
                    clear = COULD_NOT_SAVE in body if method == "POST" else "555-0100" in body
                    self.outcome["refusals"].append({"request": name, "clear_page": clear})
                    response.success()  # expected while the database restarts; counted apart
                    if time.monotonic() > gave_up_at:
                        raise GaveUp(name)
                    time.sleep(1)
                    continue
                expected = 302 if method == "POST" else 200
                if status != expected:
                    response.failure(f"{status} instead of {expected}")
                    raise GaveUp(f"{name}: {status}")
                return response, body

    @task
    def fill_in_the_questionnaire(self):
        number = next(_patient_numbers)
        phone = f"555 {RUN_TAG}{number:07d}"
        answers = questionnaire(self.rng, phone)
        self.cookies: dict[str, str] = {}  # a new patient, a new browser
        self.outcome = {"phone": phone, "refusals": [], "started": time.time()}
        try:
            _response, body = self._send("GET", "/intake/", "GET step 1")
            for index, slug in enumerate(STEP_ORDER, start=1):
                token = CSRF_FIELD.search(body)
                form = {**answers[slug], "csrfmiddlewaretoken": token.group(1) if token else ""}
                form["action"] = "next"
                response, _body = self._send(
                    "POST", step_path(slug), f"POST step {index}", data=form
                )
                location = response.headers.get("Location", "")
                name = "GET confirmation" if "/done/" in location else f"GET step {index + 1}"
                _response, body = self._send("GET", location, name)
            found = REFERENCE.search(body)
            if not found:
                raise GaveUp("no reference on the confirmation page")
            self.outcome["reference"] = found.group(1)
            self.outcome["confirmed"] = time.time()
        except GaveUp as reason:
            self.outcome["gave_up"] = str(reason)
        with _lock:
            _outcomes.append(self.outcome)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


_cpu_at_start = [0.0]


@events.test_start.add_listener
def note_cpu_at_start(environment, **_kwargs):
    _cpu_at_start[0] = _cpu_seconds()


@events.quitting.add_listener
def write_results(environment, **_kwargs):
    if RESULTS_FILE:
        with open(RESULTS_FILE, "w") as out:
            json.dump(
                {
                    "requests": _requests,
                    "outcomes": _outcomes,
                    "cpu_seconds": _cpu_seconds() - _cpu_at_start[0],
                },
                out,
            )
