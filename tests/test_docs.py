"""The project's docs say what the code does."""

from __future__ import annotations

from inds.dictionary import render
from inds.paths import REPO_ROOT


def test_the_data_dictionary_is_the_one_the_code_writes() -> None:
    written = (REPO_ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")
    assert written == render(), "run `inds dictionary` and commit docs/data-dictionary.md"


def test_the_readme_links_only_docs_that_exist() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for name in ("architecture.md", "api-guide.md", "data-dictionary.md", "access.md"):
        assert f"docs/{name}" in readme
        assert (REPO_ROOT / "docs" / name).exists()
    assert "../shared" not in readme, "the README of a clone cannot point outside it"
