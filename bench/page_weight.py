"""Bytes a patient's browser downloads for each page on a first visit.

    .venv/bin/python -m bench.page_weight

Production-like settings (DEBUG off): the static files are collected into a
temporary STATIC_ROOT with whitenoise's compressed manifest storage, as the
deployment does, and served by whitenoise itself (in this process, through
the whole middleware stack). Every patient page is fetched as a browser
would on a first visit with an empty cache: the HTML, then every stylesheet,
script, image, icon and font it refers to (and anything the stylesheets
refer to), each once, with ``Accept-Encoding: gzip`` and then with
``gzip, br``. The HTML is counted as the app sends it (uncompressed); a TLS
proxy that compresses HTML would only make it smaller.

Any request that would leave the site (an absolute URL to another host, in
the HTML or the CSS) is listed as a third-party request.
"""

import argparse
import random
import re
import tempfile
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

from . import common

DATABASE = f"{common.BENCH_PREFIX}_pages"
LIMIT_BYTES = 150 * 1024
HOST = "testserver"
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
CSS_IMPORT = re.compile(r"@import\s+['\"]([^'\"]+)['\"]")


class Resources(HTMLParser):
    """The URLs a browser would fetch to show an HTML page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "link" and attrs.get("href"):
            rel = (attrs.get("rel") or "").lower()
            if any(word in rel for word in ("stylesheet", "icon", "preload", "modulepreload")):
                self.urls.append(attrs["href"])
        elif tag in ("script", "img", "source", "iframe", "embed") and attrs.get("src"):
            self.urls.append(attrs["src"])
        elif tag == "img" and attrs.get("srcset"):
            self.urls.extend(part.split()[0] for part in attrs["srcset"].split(","))


def third_party(url: str) -> bool:
    parts = urlsplit(url)
    return bool(parts.netloc) and parts.netloc != HOST


def page_weight(client, path: str, html: bytes, encoding: str) -> dict:
    """Bytes for the page and everything it loads, with one Accept-Encoding."""
    parser = Resources()
    parser.feed(html.decode("utf-8", "replace"))
    queue = [urljoin(path, url) for url in parser.urls]
    seen: set[str] = set()
    outside: list[str] = []
    files: list[tuple[str, int, str]] = []
    while queue:
        url = queue.pop(0)
        if url in seen or url.startswith("data:"):
            continue
        seen.add(url)
        if third_party(url):
            outside.append(url)
            continue
        response = client.get(url, HTTP_ACCEPT_ENCODING=encoding, secure=True)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {url} answered {response.status_code}")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        files.append((url, len(body), response.get("Content-Encoding", "identity")))
        if url.split("?")[0].endswith(".css"):
            text = body
            if response.get("Content-Encoding") == "gzip":
                import gzip

                text = gzip.decompress(body)
            elif response.get("Content-Encoding") == "br":
                import brotli

                text = brotli.decompress(body)
            css = text.decode("utf-8", "replace")
            for found in CSS_URL.findall(css) + CSS_IMPORT.findall(css):
                queue.append(urljoin(url, found))
    return {
        "html": len(html),
        "files": files,
        "total": len(html) + sum(size for _url, size, _enc in files),
        "third_party": outside,
    }


def patient_pages(client) -> list[tuple[str, str, bytes]]:
    """(name, path, HTML) of every page a patient sees, walking a real questionnaire."""
    from bench.patients import questionnaire
    from bench.walker import Answer, flat_answers, walk
    from conditions.models import Condition

    pages = []

    def get(name: str, path: str):
        response = client.get(path, secure=True)
        if response.status_code not in (200, 404):
            raise SystemExit(f"{path} answered {response.status_code}")
        pages.append((name, path, response.content))
        return response

    get("landing", "/")
    answers = flat_answers(questionnaire(random.Random(7), "555 0100 0042"))  # noqa: S311
    # An emergency, so the confirmation page carries its longest advice.
    answers["saddle_numbness"] = "yes"

    def send(request) -> Answer:
        """Every page the walker asks for, as a patient sees it (the GETs are weighed)."""
        if request.method == "GET":
            slug = request.name.removeprefix("GET ")
            name = "confirmation (emergency)" if slug == "done" else f"questionnaire: {slug}"
            response = get(name, request.path)
        else:
            response = client.post(
                request.path,
                urlencode(request.form),
                content_type="application/x-www-form-urlencoded",
                secure=True,
                HTTP_REFERER=f"https://{HOST}{request.path}",
            )
        return Answer(response.status_code, response.get("Location", ""), response.text)

    walk(send, answers)
    get("conditions library", "/conditions/")
    # Every condition page has the same template; the longest one is measured.
    slugs = Condition.objects.filter(is_published=True).values_list("slug", flat=True)
    longest = max(
        slugs, key=lambda slug: len(client.get(f"/conditions/{slug}/", secure=True).content)
    )
    get("condition page (the longest)", f"/conditions/{longest}/")
    get("error page (404)", "/no-such-page/")
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="list every file")
    args = parser.parse_args(argv)
    common.heading("Page weight: first visit, empty cache, production static files")
    print(common.machine_description())
    common.create_database(DATABASE)
    common.migrate(DATABASE)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="clinic-bench-static-") as static_root:
        common.collect_static(static_root, DATABASE)
        common.use_environment(
            common.production_env(DATABASE, static_root=static_root, DJANGO_LOG_LEVEL="ERROR")
        )
        from django.test import Client

        client = Client()
        pages = patient_pages(client)
        print(
            f"{'page':<40}{'HTML':>8}{'CSS+JS+other, gzip':>20}{'total gzip':>12}"
            f"{'total br':>10}{'requests':>10}"
        )
        for name, path, html in pages:
            gzip = page_weight(client, path, html, "gzip")
            brotli = page_weight(client, path, html, "gzip, br")
            print(
                f"{name:<40}{gzip['html'] / 1024:>7.1f}K"
                f"{(gzip['total'] - gzip['html']) / 1024:>19.1f}K"
                f"{gzip['total'] / 1024:>11.1f}K{brotli['total'] / 1024:>9.1f}K"
                f"{1 + len(gzip['files']):>10}"
            )
            if args.verbose:
                for url, size, encoding in gzip["files"]:
                    print(f"    {url:<60}{size / 1024:>7.1f}K {encoding}")
            if gzip["third_party"]:
                print(f"    third-party requests: {gzip['third_party']}")
            failures += gzip["total"] >= LIMIT_BYTES or bool(gzip["third_party"])
        csp = client.get("/", secure=True).get("Content-Security-Policy", "")
        print(f"Content-Security-Policy: {csp}")
    common.drop_database(DATABASE)
    common.heading("Targets")
    print(
        f"{'PASS' if not failures else 'FAIL'}  every patient page under "
        f"{LIMIT_BYTES // 1024} KB on first load (gzip), no third-party requests"
    )
    raise SystemExit(1 if failures else 0)


if __name__ == "__main__":
    main()
