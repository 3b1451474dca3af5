"""Cutting the model's stream into whole sentences (or list items) as it arrives, so
each can be checked before the editor sees it."""

from __future__ import annotations

import re

# A sentence ends at . ! or ? (and any closing quote or bracket) followed by white
# space; "7.5" and "e.g." mid-sentence do not end one.
_END = re.compile(r"""[.!?]["”’)\]]*(?=\s)""")
_ABBREVIATIONS = {"e.g.", "i.e.", "dr.", "mr.", "mrs.", "ms.", "vs.", "etc.", "approx."}
_NUMBERED = re.compile(r"\s*\d+[.)]")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


class SentenceBuffer:
    """Collects streamed text; ``feed`` returns the sentences it completed."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> list[str]:
        self._pending += text
        done: list[str] = []
        while True:
            cut = self._next_cut()
            if cut is None:
                return done
            piece, self._pending = self._pending[:cut], self._pending[cut:]
            if piece.strip():
                done.append(clean(piece))

    def flush(self) -> list[str]:
        """Whatever is left once the stream ended, as a last sentence."""
        rest, self._pending = self._pending, ""
        return [clean(rest)] if rest.strip() else []

    def _next_cut(self) -> int | None:
        text = self._pending
        newline = text.find("\n")
        for match in _END.finditer(text):
            if newline != -1 and newline < match.end():
                break
            word = text[: match.end()].rsplit(None, 1)[-1].casefold()
            if word in _ABBREVIATIONS:
                continue
            line_start = text.rfind("\n", 0, match.start()) + 1
            if _NUMBERED.fullmatch(text[line_start : match.end()]):
                continue
            return match.end()
        if newline != -1:
            return newline + 1
        return None


def clean(piece: str) -> str:
    """One sentence without list markers, markdown emphasis or extra white space."""
    piece = _BULLET.sub("", piece.strip())
    piece = piece.replace("**", "").replace("__", "")
    return " ".join(piece.split())


def is_list_line(line: str) -> bool:
    return bool(_BULLET.match(line))
