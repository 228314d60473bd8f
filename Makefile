# The two commands a newcomer needs:  make run   and   make test
# Both create .venv with a Python 3.12+ they find themselves (PYTHON=... overrides).

VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Development defaults; the environment can override any of them.
export DJANGO_DEBUG ?= 1

.PHONY: run test screenshots lint install check-migrations deploy-check purge-drafts clean \
	bench bench-install bench-drop bench-cpu-ratio messages makemessages

$(STAMP): requirements.txt bin/find-python
	@if [ -x $(VPY) ] && ! $(VPY) -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
		echo "Removing $(VENV): it was made with an older Python"; rm -rf $(VENV); fi
	@if [ ! -x $(VPY) ]; then \
		py="$$(bin/find-python)" || exit 1; \
		echo "Creating $(VENV) with $$py"; \
		"$$py" -m venv $(VENV) || exit 1; \
	fi
	$(VPY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

# One development key for the whole of `make run` (seeding and the server alike),
# made fresh each time and never written down: the demo's printed patient link is
# signed with it (intake/invitations.py), so it must be the server's key too.
run: export DJANGO_SECRET_KEY := $(or $(DJANGO_SECRET_KEY),dev-only-$(shell od -An -N32 -tx1 /dev/urandom | tr -d ' \n'))
run: install messages
	$(VPY) manage.py migrate --noinput
	$(VPY) manage.py createcachetable
	$(VPY) manage.py purge_intake_drafts
	$(VPY) manage.py seed_demo
	@echo "Serving on http://127.0.0.1:8000/  (staff: http://127.0.0.1:8000/admin/)"
	$(VPY) manage.py runserver 127.0.0.1:8000

# The browser tests (tests/browser) need Chromium: Debian's package, at /usr/bin/chromium
# (CLINIC_CHROMIUM=... for another). Without it they are skipped and pytest says why.
test: install messages
	@command -v chromium >/dev/null 2>&1 || [ -x "$${CLINIC_CHROMIUM:-/usr/bin/chromium}" ] || \
		echo "Note: Chromium not found, so the browser tests will be skipped (apt-get install chromium)."
	$(VPY) -m pytest

# Re-take the README's screenshots (docs/screenshots/) from a live test server.
screenshots: install
	CLINIC_UPDATE_SCREENSHOTS=1 CLINIC_REQUIRE_BROWSER=1 $(VPY) -m pytest -q tests/browser/test_screenshots.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check-migrations: install
	$(VPY) manage.py makemigrations --check --dry-run

# Run on a production host with its environment set (DJANGO_SECRET_KEY, DATABASE_URL, ...):
# Django's deploy checks with debug off, then whether the code and database are in step.
deploy-check: install
	DJANGO_DEBUG=0 $(VPY) manage.py check --deploy --fail-level WARNING
	DJANGO_DEBUG=0 $(VPY) manage.py makemigrations --check --dry-run
	DJANGO_DEBUG=0 $(VPY) manage.py migrate --check

# Compile the translations (locale/*/LC_MESSAGES/django.po -> django.mo) with Babel:
# no GNU gettext needed. The .mo files are build output and are not committed.
messages: install
	$(VENV)/bin/pybabel -q compile -d locale -D django

# Developers only, after changing marked text (needs GNU gettext: apt-get install -y gettext):
# update locale/es/LC_MESSAGES/django.po, then translate every new or fuzzy entry.
makemessages: install
	$(VPY) manage.py makemessages -l es --no-obsolete --add-location=file \
		--ignore='tests/*' --ignore='bench/*' --ignore='docs/*' --ignore='staticfiles/*'

bench-install: install
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-bench.txt

# Benchmarks (docs/performance.md). Needs PostgreSQL at 127.0.0.1:5432 (user postgres).
# Seeds clinic_bench_1000 and clinic_bench_1000000 on first use (~2 GB, kept), then
# prints every number and PASS/FAIL per target (~7 minutes). Restarts PostgreSQL once.
bench: bench-install
	$(VPY) -m bench

# The questionnaire's CPU per completed questionnaire as a ratio to the same number of
# landing-page requests (issue 19: at most 1.5x), alone; part of make bench. ~1 minute.
bench-cpu-ratio: bench-install
	$(VPY) -m bench.cpu_ratio

bench-drop: install
	$(VPY) -m bench --drop

purge-drafts: install
	$(VPY) manage.py purge_intake_drafts

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
