"""Reads of the education library that other apps share."""

from collections.abc import Mapping


def conditions_for_answers(answers: Mapping[str, object]) -> list:
    """Published conditions related to the symptom answers (placeholder until the library lands)."""
    return []
