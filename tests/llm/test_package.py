"""The `llm` package resolves its public names on first use (issue 18: a cold `kubesage ask` reads `llm.config`
without loading LangChain's chat model classes)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import llm


def test_every_public_name_is_the_defining_modules_object() -> None:
    assert sorted(llm.__all__) == sorted(llm._EXPORTS)
    for name, module in llm._EXPORTS.items():
        assert getattr(llm, name) is getattr(importlib.import_module(module), name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        llm.nope  # noqa: B018 - the lookup is the test


def test_reading_the_config_does_not_load_the_chat_model() -> None:
    code = "import sys, llm.config; print('llm.chat_model' in sys.modules, 'langchain_core' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]
