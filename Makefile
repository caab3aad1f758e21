# kubesage: `make demo` runs the main job on the embedded sandbox; `make test` runs the whole suite.
# Every target sets itself up (`make install` is idempotent).

PY      ?= python3
UV      := $(PY) -m uv
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp

.PHONY: install demo test bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml uv.lock
	@$(PY) -m uv --version >/dev/null 2>&1 || $(PY) -m pip install --quiet uv
	CMAKE_ARGS="$${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF}" $(UV) sync --frozen
	@touch $@

demo: install
	$(BIN)/python -m kubesage.demo

test: install
	$(BIN)/pytest

bench: install
	$(BIN)/python -m evals.bench

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
