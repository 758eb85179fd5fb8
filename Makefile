# The two commands of the README:
#   make demo   set up .venv (first time, or when requirements.txt changed) and start the demo
#   make test   set up .venv with the test extras, fetch Chromium and axe-core if we can, lint (ruff), run the whole test suite
# The stamp files in .venv record which requirements file was installed, so pip only runs again
# after that file changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# -qq: pip prints errors only.
PIP_INSTALL := $(PY) -m pip install -qq --disable-pip-version-check
CHROMIUM := /usr/bin/chromium

AXE := tests/node_modules/axe-core/axe.min.js

.PHONY: demo test chromium

demo: $(VENV)/.stamp-runtime
	$(PY) app.py

test: $(VENV)/.stamp-dev chromium $(AXE)
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

$(PY):
	@$(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create $(VENV) with '$(PYTHON) -m venv'. On Debian/Ubuntu: apt-get install python3-venv" >&2; \
	  rm -rf $(VENV); exit 1; }

$(VENV)/.stamp-runtime: requirements.txt | $(PY)
	@echo "Installing requirements.txt into $(VENV) (the first time takes several minutes)..."
	$(PIP_INSTALL) -r requirements.txt
	@touch $@

# The dev requirements include requirements.txt, so they satisfy `make demo` too.
$(VENV)/.stamp-dev: requirements-dev.txt requirements.txt | $(PY)
	@echo "Installing requirements-dev.txt into $(VENV) (the first time takes several minutes)..."
	$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@ $(VENV)/.stamp-runtime

# The screenshot tests drive Debian's Chromium (Playwright's own browser download is not used).
# Without it they skip locally, and fail under CI=true.
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Chromium with apt-get for the screenshot tests..."; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq chromium >/dev/null; } \
	    || echo "WARNING: apt-get could not install chromium; the screenshot tests will skip (or fail under CI)." >&2; \
	else \
	  echo "NOTE: $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get)." >&2; \
	  echo "      The screenshot tests will skip. Install Chromium, or set CHROMIUM_PATH to a Chromium binary." >&2; \
	fi

# The accessibility test injects axe-core (pinned in tests/package.json and its lock file) into the page.
# npm comes with Node.js; without it the test skips with a message, except under CI=true.
$(AXE): tests/package.json tests/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix tests --no-audit --no-fund --silent && touch $@; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "Installing npm with apt-get for the accessibility test..."; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq npm >/dev/null \
	    && npm ci --prefix tests --no-audit --no-fund --silent && touch $@; } \
	    || echo "WARNING: could not install axe-core; the accessibility test will skip (or fail under CI)." >&2; \
	else \
	  echo "NOTE: npm is missing; the accessibility test will skip. Install Node.js and npm." >&2; \
	fi
