"""How numbers are written for people: one wording for the page, the command line and the model card.

    number(6.25) -> "6.25", number(8.0) -> "8"          count(1280) -> "1,280"
    millions(22_000_000) -> "22.0 M"                     megapixels(2e6) -> "2 MP", size(64, 48) -> "64×48"
    seconds(0.12) -> "120 ms", seconds(4.5) -> "4.5 s"   duration(200) -> "3 minutes"
    percent(0.251) -> "25%"                              pixels_over_limit(2_002_225, 2e6) -> counts
"""


def number(x: float) -> str:
    """At most two decimals, without trailing zeros: scales and ratios ("8", "6.25", "0.5")."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def count(n: int) -> str:
    return f"{n:,}"


def plural(shown: str, word: str) -> str:
    """A number as already formatted, with its word: "1 level", "0 levels", "2.5 input pixels"."""
    return f"{shown} {word}" if shown == "1" else f"{shown} {word}s"


def size(width: int, height: int) -> str:
    return f"{width}×{height}"


def millions(n: int) -> str:
    return f"{n / 1e6:.1f} M" if n >= 100_000 else count(n)


def megapixels(n: float) -> str:
    return f"{n / 1e6:.3g} MP"


def pixels_over_limit(n: int, limit: int) -> tuple:
    """A pixel count and the limit it is over, for one sentence: in megapixels, with the exact counts
    when the rounded megapixels would read the same ("is 2 MP; the limit here is 2 MP" says nothing)."""
    said, said_limit = megapixels(n), megapixels(limit)
    if said == said_limit:
        return f"{said} ({count(n)} pixels)", f"{said_limit} ({count(limit)} pixels)"
    return said, said_limit


def seconds(s: float) -> str:
    """A short measured time: milliseconds below one second."""
    return f"{s * 1000:.0f} ms" if s < 1 else f"{s:.1f} s"


def duration(s: float) -> str:
    """A longer time, roughly: seconds, minutes or hours ("?" for an unknown one)."""
    if s != s:  # nan: nothing to go on yet
        return "?"
    if s < 90:
        return f"{s:.0f} s"
    if s < 5400:
        return f"{s / 60:.0f} minutes"
    return f"{s / 3600:.1f} hours"


def percent(fraction: float) -> str:
    return f"{fraction:.0%}"
