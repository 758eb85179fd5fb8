"""Every Python example of the README and docs/ that imports liif runs as written (on a small photo, in a
scratch folder), so the examples a newcomer copies cannot rot."""

import os
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def python_examples(text: str) -> list:
    """The indented code blocks (and ```python fences) that import liif."""
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    for block in re.findall(r"(?:^(?: {4}.*|)\n)+", text, flags=re.M):
        if block.strip():
            blocks.append(textwrap.dedent(block))
    return [block for block in blocks if re.search(r"^\s*from liif|^\s*import liif", block, flags=re.M)]


EXAMPLES = [(path.relative_to(REPO), k, block) for path in DOCUMENTS
            for k, block in enumerate(python_examples(path.read_text()))]


def test_the_readme_has_python_examples():
    assert any(str(path) == "README.md" for path, _, _ in EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("document, index, code", EXAMPLES, ids=[f"{p}#{k}" for p, k, _ in EXAMPLES])
def test_example_runs(document, index, code, tmp_path, monkeypatch):
    photo = np.random.default_rng(index).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.jpg", quality=90)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "2"))
    exec(compile(code, f"{document} example {index}", "exec"), {"__name__": "__example__"})
