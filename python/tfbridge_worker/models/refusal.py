"""How a refusal reads: each class once with its count, what still works, and a length cap.

A refusal can concern hundreds of layers (NASNet has over a thousand): the message names each class
once ("Conv2D ×12, ZeroPadding2D ×4") and stays short; ``details["problems"]`` keeps every one.
"""

from __future__ import annotations

from collections import Counter

#: The longest refusal message; the full list is in the error's details.
MAX_MESSAGE_CHARS = 600


def class_counts(problems: list[dict]) -> str:
    """"Conv2D ×12, ZeroPadding2D ×4": each class once, the most frequent first (ties: first seen)."""
    counts = Counter(str(p.get("class", "?")) for p in problems)
    return ", ".join(f"{cls} ×{n}" for cls, n in counts.most_common())


def capped(message: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """`message`, cut at `limit` characters with a pointer to the full list."""
    if len(message) <= limit:
        return message
    tail = " … (every one is in details.problems)"
    return message[: limit - len(tail)] + tail
