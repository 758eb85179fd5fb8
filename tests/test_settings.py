"""liif/settings.py: every variable is documented in the README's table, and unusable values fall back."""

from pathlib import Path

from liif import settings

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_variable_has_a_readme_line():
    lines = README.read_text().splitlines()
    for variable in settings.VARIABLES:
        assert any(line.startswith(f"| `{variable.name}` |") for line in lines), variable.name


def test_counts_parse_and_unusable_ones_mean_unset():
    assert settings.max_body_bytes({settings.MAX_BODY_BYTES: "4e6"}) == 4_000_000
    assert settings.max_body_bytes({settings.MAX_BODY_BYTES: "lots"}) is None
    assert settings.trusted_proxies({}) is None
    assert settings.trusted_proxies({settings.TRUSTED_PROXIES: "2"}) == 2
