# Two commands do everything on a fresh Debian/Ubuntu machine:
#   make demo   generate firmware for the bundled example and run it in QEMU
#   make test   run the whole test suite
# Both create the virtualenv (.venv) and install the Python packages; as root they
# also install the Debian packages the tests need (Arm cross compiler, newlib, QEMU,
# CMake, a host C compiler).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEB_PACKAGES := gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm cmake make gcc g++ \
	libc6-dev espeak-ng chromium postgresql
DEMO_OUT ?= examples/basicmotions/out

.PHONY: demo test setup system-deps lint clean

setup: system-deps $(VENV)/.installed

system-deps:
	@missing=""; \
	for tool in arm-none-eabi-gcc qemu-system-arm cmake cc g++ espeak-ng chromium; do \
	  command -v $$tool >/dev/null 2>&1 || missing="$$missing $$tool"; done; \
	[ -f /usr/lib/arm-none-eabi/newlib/libc_nano.a ] || [ -z "$$(command -v arm-none-eabi-gcc)" ] || missing="$$missing newlib"; \
	command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages (missing:$$missing)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $(DEB_PACKAGES) >/dev/null; \
	  else \
	    echo "warning: missing$$missing; as root, make installs: $(DEB_PACKAGES)"; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $@

demo: setup
	$(VENV)/bin/mcuforge generate examples/basicmotions/spec.yaml --force
	cd $(DEMO_OUT)/firmware && env -u MAKEFLAGS -u MAKELEVEL sh -c \
	  'cmake -B build >/dev/null && cmake --build build >/dev/null && cmake --build build --target run-qemu'
	@echo "report: $(DEMO_OUT)/report.md"

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check generator tests
	$(VENV)/bin/ruff format --check generator tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache dist build
