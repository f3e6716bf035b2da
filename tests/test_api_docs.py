"""Every example in docs/api.md runs as it stands, from the repository root."""

from __future__ import annotations

import re

import pytest

from conftest import REPO_ROOT

API_DOC = REPO_ROOT / "docs" / "api.md"


def python_examples(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of a Markdown text, with the line each starts on."""
    return [
        (text.count("\n", 0, match.start()) + 2, match.group(1))
        for match in re.finditer(r"^```python\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)
    ]


EXAMPLES = python_examples(API_DOC.read_text())


def test_the_api_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("line", "code"), EXAMPLES, ids=[f"api.md:{line}" for line, _ in EXAMPLES])
def test_example_runs(line: int, code: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO_ROOT)
    exec(compile(code, f"{API_DOC}:{line}", "exec"), {"__name__": "__main__"})  # noqa: S102 - our own docs
