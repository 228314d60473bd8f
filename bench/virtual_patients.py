"""Virtual patients for ``bench.load``: each fills in the whole questionnaire as a browser.

Run by ``bench/load.py`` (which starts gunicorn, runs this as
``python -m bench.virtual_patients`` and checks the database afterwards); not
meant to be started by hand.

A lean load generator, as it shares the machine's cores with the app and
PostgreSQL: one process, one uvloop event loop, one coroutine per virtual
patient, and for each its own HTTP/1.1 connection, kept alive where the server
allows it (gunicorn's sync workers close it after every response). The
requests are written here; the responses are parsed by httptools (the parser
uvicorn uses). It needs about a third of the CPU per request that Locust's
FastHttpUser did (0.33 ms against 0.95 ms on the benchmark machine; see
docs/performance.md, section 3).

Each virtual patient fills in questionnaires one after another until the time
is up; patients busy then finish the one they are on (for at most a minute).
One questionnaire is a new patient in a new browser (no cookies, a unique
phone number, random plausible answers from ``bench/patients.py``), walked
by ``bench/walker.py``: GET the first step, then on every page fill in its
form, POST it and follow the redirect with a GET, whatever the pages are
(the steps, a "check your answers" page), ending with the GET of the
confirmation page, whose case reference is recorded with the patient's
unique phone number. Each request (eleven with five steps and no check
page) is timed on its own, from sending it (opening the connection first if
need be) to the last byte of the response.

The app runs as in production behind a TLS proxy, so every request says
``X-Forwarded-Proto: https`` and ``X-Forwarded-For`` (each patient their own
address, so the questionnaire's per-address rate limit counts each patient as
it would in production), and carries the Origin/Referer a browser sends;
the cookies (all ``Secure``) are kept by hand, as a browser would keep them
for the https origin.

If the app answers 503 (the database is down: the "could not save" page for
a POST, the calm error page for a GET), the patient waits a second and presses
the button again, as the page asks, for up to ``BENCH_PATIENCE`` seconds,
then gives up. Any other unexpected answer (or none within a minute) is an
error, and the patient gives up at once. Every refusal and every give-up is recorded.

The results go to ``--results`` as JSON: every request (name, milliseconds,
status, when it finished), every patient's outcome, and the CPU seconds this
process used while the patients ran.
"""

import argparse
import asyncio
import functools
import itertools
import json
import os
import random
import resource
import socket
import time
import zlib
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import httptools
import uvloop

from bench.patients import patient_address, questionnaire
from bench.walker import CASE_REFERENCE, Answer, WalkError, flat_answers, patient_requests

PATIENCE = float(os.environ.get("BENCH_PATIENCE", "30"))
#: Patients busy when the time is up get this long to finish their questionnaire.
FINISH_WITHIN = 60.0
#: A request not answered in full within this long fails (status 0).
REQUEST_TIMEOUT = 60.0
USER_AGENT = "clinic-bench/virtual-patient"
COULD_NOT_SAVE = "We could not save your answers just now"


class GaveUp(Exception):
    pass


# HTTP/1.1 -----------------------------------------------------------------------------------


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes):
        self.status = status
        self.headers = headers  # (lower-case name, value), in the order received
        self.body = body

    def get_all(self, name: bytes) -> list[str]:
        return [value.decode("latin-1") for key, value in self.headers if key == name]

    def get(self, name: bytes, default: str = "") -> str:
        found = self.get_all(name)
        return found[0] if found else default

    def text(self) -> str:
        """The body decoded as a browser would (gzip or br, then the charset)."""
        body = self.body
        encoding = self.get(b"content-encoding").strip().lower()
        if encoding == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        charset = self.get(b"content-type").partition("charset=")[2].strip() or "utf-8"
        return body.decode(charset, errors="replace")


class _Connection(asyncio.Protocol):
    """One connection to the app: a request at a time, the response parsed by httptools."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.open = False
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.answered = False  # any byte of the response yet
        self.headers_complete = False

    def connection_made(self, transport):
        self.transport = transport
        self.open = True

    def request(self, data: bytes) -> asyncio.Future:
        self.headers = []
        self.body = []
        self.answered = False
        self.headers_complete = False
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiter

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()

    def _finish(self, result) -> None:
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if isinstance(result, BaseException):
            waiter.set_exception(result)
        else:
            waiter.set_result(result)

    def data_received(self, data):
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self.close()
            self._finish(error)

    def connection_lost(self, exc):
        self.open = False
        names = {name for name, _value in self.headers}
        if self.headers_complete and not names & {b"content-length", b"transfer-encoding"}:
            # A body without a length ends when the server closes the connection.
            self._complete()
        self._finish(exc or ConnectionResetError("connection closed before a complete response"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes):
        self.headers.append((name.lower(), value))

    def on_headers_complete(self):
        self.headers_complete = True

    def on_body(self, body: bytes):
        self.body.append(body)

    def on_message_complete(self):
        if not self.parser.should_keep_alive():
            self.close()
        self._complete()

    def _complete(self) -> None:
        self._finish(Response(self.parser.get_status_code(), self.headers, b"".join(self.body)))


class Browser:
    """A virtual browser: one kept-alive connection to the app and the cookies for its origin."""

    def __init__(self, base_url: str, address: tuple[str, int]):
        self.netloc = urlsplit(base_url).netloc
        # The app sits behind a TLS proxy: the browser's origin is https.
        self.origin = "https://" + self.netloc
        self.address = address
        self.connection: _Connection | None = None
        self.cookies: dict[str, str] = {}
        self.client_address = "10.0.0.1"

    def new_patient(self, client_address: str) -> None:
        """Forget the cookies, as a new browser would start without them, at its own address."""
        self.cookies = {}
        self.client_address = client_address

    def request_bytes(self, method: str, path: str, body: bytes) -> bytes:
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.netloc}",
            f"User-Agent: {USER_AGENT}",
            "X-Forwarded-Proto: https",
            f"X-Forwarded-For: {self.client_address}",
            f"Referer: {self.origin}{path}",
            "Accept-Encoding: gzip, br",
        ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            lines.append(f"Origin: {self.origin}")
            lines.append("Content-Type: application/x-www-form-urlencoded; charset=utf-8")
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def fetch(self, request: bytes) -> Response:
        loop = asyncio.get_running_loop()
        while True:
            connection = self.connection
            reused = connection is not None and connection.open
            if not reused:
                _transport, connection = await loop.create_connection(_Connection, *self.address)
                self.connection = connection
            try:
                return await connection.request(request)
            except ConnectionError:
                if reused and not connection.answered:
                    continue  # the server had closed the idle connection: again on a new one
                raise
            except BaseException:
                connection.close()
                raise

    def keep_cookies(self, response: Response) -> None:
        for header in response.get_all(b"set-cookie"):
            for name, value in _cookies_set(header):
                if value is None:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value


@functools.lru_cache(maxsize=1024)
def _cookies_set(header: str) -> tuple[tuple[str, str | None], ...]:
    """(name, value) for each cookie a Set-Cookie header sets; value None: deleted.

    Cached: every page of a questionnaire sets the same CSRF cookie again.
    """
    return tuple(
        (morsel.key, None if morsel["max-age"] == "0" or not morsel.value else morsel.value)
        for morsel in SimpleCookie(header).values()
    )


# The patients ---------------------------------------------------------------------------------


class LoadRun:
    def __init__(self, base_url: str, tag: str):
        self.base_url = base_url
        split = urlsplit(base_url)
        # The name is looked up once, as a browser caches it.
        found = socket.getaddrinfo(split.hostname, split.port or 80, type=socket.SOCK_STREAM)
        self.address = found[0][4][:2]
        self.tag = tag
        self.numbers = itertools.count(1)
        self.requests: list[tuple[str, float, int, float]] = []  # (name, ms, status, finished at)
        self.outcomes: list[dict] = []

    async def send(
        self,
        browser: Browser,
        outcome: dict,
        method: str,
        path: str,
        name: str,
        form: list[tuple[str, str]] | None = None,
    ) -> tuple[Response | None, str]:
        """One request with the browser's cookies; 503s are retried until patience runs out."""
        gave_up_at = time.monotonic() + PATIENCE
        body = urlencode(form).encode() if form is not None else b""
        while True:
            request = browser.request_bytes(method, path, body)
            started = time.perf_counter()
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    response = await browser.fetch(request)
                status = response.status
            except (OSError, TimeoutError, httptools.HttpParserError):
                response, status = None, 0
            took = (time.perf_counter() - started) * 1000
            self.requests.append((name, took, status, time.time()))
            text = ""
            if response is not None:
                browser.keep_cookies(response)
                text = response.text()
            if status == 503:
                # The app could not reach the database: refused, with a clear page.
                clear = COULD_NOT_SAVE in text if method == "POST" else "555-0100" in text
                outcome["refusals"].append({"request": name, "clear_page": clear})
                if time.monotonic() > gave_up_at:
                    raise GaveUp(name)
                await asyncio.sleep(1)
                continue
            expected = 302 if method == "POST" else 200
            if status != expected:
                raise GaveUp(f"{name}: {status}")
            return response, text

    async def fill_in_the_questionnaire(self, browser: Browser, rng: random.Random) -> None:
        number = next(self.numbers)
        phone = f"555 {self.tag}{number:07d}"
        answers = questionnaire(rng, phone)
        browser.new_patient(patient_address(self.tag, number))
        outcome = {"phone": phone, "refusals": [], "started": time.time()}
        try:
            # The walker decides each request from the answer to the one before.
            requests = patient_requests(flat_answers(answers))
            request = next(requests)
            while True:
                response, body = await self.send(
                    browser, outcome, request.method, request.path, request.name, request.form
                )
                answer = Answer(response.status, response.get(b"location"), body)
                try:
                    request = requests.send(answer)
                except StopIteration:
                    break
                except WalkError as error:
                    raise GaveUp(str(error)) from error
            found = CASE_REFERENCE.search(body)
            if not found:
                raise GaveUp("no reference on the confirmation page")
            outcome["reference"] = found.group(1)
            outcome["confirmed"] = time.time()
        except GaveUp as reason:
            outcome["gave_up"] = str(reason)
        self.outcomes.append(outcome)

    async def virtual_patient(self, stop_at: float) -> None:
        browser = Browser(self.base_url, self.address)
        rng = random.Random()  # noqa: S311 - fake patients
        try:
            while time.monotonic() < stop_at:
                await self.fill_in_the_questionnaire(browser, rng)
        finally:
            if browser.connection is not None:
                browser.connection.close()

    async def run(self, users: int, seconds: float) -> float:
        """Run the patients; return the CPU seconds this process used meanwhile."""
        cpu_at_start = _cpu_seconds()
        stop_at = time.monotonic() + seconds
        patients = [asyncio.create_task(self.virtual_patient(stop_at)) for _ in range(users)]
        _done, still_busy = await asyncio.wait(patients, timeout=seconds + FINISH_WITHIN)
        for patient in still_busy:
            patient.cancel()  # not finished a minute after the time was up: not counted
        if still_busy:
            await asyncio.wait(still_busy)
        for patient in patients:
            if not patient.cancelled() and patient.exception():
                raise patient.exception()
        return _cpu_seconds() - cpu_at_start


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", required=True, help="the app, e.g. http://127.0.0.1:8123")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--results", required=True, help="write the results here (JSON)")
    parser.add_argument("--tag", default="1", help="phone numbers are 555 TAG0000001 and up")
    args = parser.parse_args(argv)
    load = LoadRun(args.host, args.tag)
    cpu_seconds = uvloop.run(load.run(args.users, args.seconds))
    Path(args.results).write_text(
        json.dumps(
            {"requests": load.requests, "outcomes": load.outcomes, "cpu_seconds": cpu_seconds}
        )
    )
    confirmed = sum(1 for outcome in load.outcomes if "reference" in outcome)
    print(
        f"{len(load.requests)} requests, {confirmed} questionnaires confirmed, "
        f"{sum(1 for o in load.outcomes if 'gave_up' in o)} gave up; "
        f"load generator CPU {cpu_seconds:.2f} s "
        f"({cpu_seconds / max(len(load.requests), 1) * 1000:.3f} ms per request)"
    )


if __name__ == "__main__":
    main()
