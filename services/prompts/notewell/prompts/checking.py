"""The grounding check each generated sentence passes before it is sent: quotations must
appear word for word in the client's signed notes or the note being written, and every
figure must be one the record holds (see notewell.clinical.grounding)."""

from __future__ import annotations

from notewell.clinical.grounding import GroundingSource, check_text
from notewell.clinical.quotes import find_quotations
from notewell.prompts.facts import Facts
from notewell.prompts.generation import Check, Checked
from notewell.prompts.style import Style

CURRENT_NOTE = "note:current"


def grounding_source(facts: Facts, current_text: str) -> GroundingSource:
    """The computed facts, the signed notes' text and the note being written, as the
    context items a sentence may rest on. There is no transcript to quote from."""
    items: dict[str, str] = {}
    for fact in facts.of(frozenset({"history", "scores", "wearables", "themes"})):
        items[fact.context_id] = (
            items.get(fact.context_id, "") + " " + fact.text
        ).strip()
    for excerpt in facts.notes:
        items[excerpt.context_id] = excerpt.text
    if current_text.strip():
        items[CURRENT_NOTE] = current_text
    return GroundingSource([], items)


def sentence_check(source: GroundingSource, style: Style) -> Check:
    client_words = ["client", "they", "she", "he", style.client]
    clinician_words = ["therapist", "clinician", style.clinician]
    cited = [key for key in source.context_items if key != CURRENT_NOTE]
    # The preferences limit quotations in the whole answer, not per sentence.
    quotes_used = 0

    def check(sentence: str) -> Checked:
        nonlocal quotes_used
        checked = check_text(
            sentence,
            source,
            client_words=client_words,
            clinician_words=clinician_words,
            cited_context_ids=cited,
            max_quotes=max(style.max_quotes - quotes_used, 0),
        )
        quotes_used += len(find_quotations(checked.text))
        return Checked(
            text=checked.text,
            statements=tuple(checked.statements),
            removed_quotes=checked.report.removed_quotes,
            removed_statements=checked.report.removed_statements,
        )

    return check
