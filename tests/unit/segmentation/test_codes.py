"""Every problem code the segmentation rules and signals write is documented."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    *sorted((ROOT / "src" / "crmcore" / "rules" / "segmentation").glob("*.py")),
    ROOT / "src" / "crmcore" / "rules" / "signals.py",
]


def test_every_segmentation_and_signal_code_is_in_errors_md() -> None:
    """Each code literal in the segmentation and signal rules appears in docs/errors.md."""
    page = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    codes: set[str] = set()
    for source in SOURCES:
        text = source.read_text(encoding="utf-8")
        codes.update(re.findall(r'code="([a-z_]+\.[a-z_.]+)"', text))
        codes.update(re.findall(r'refuse\(\s*"([a-z_]+\.[a-z_.]+)"', text))
    assert len(codes) >= 8
    missing = sorted(c for c in codes if f"| `{c}` |" not in page)
    assert not missing, f"document these codes in docs/errors.md: {missing}"
