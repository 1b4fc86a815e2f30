"""The ``[stories]`` table of tracker.toml: the thresholds for joining a story.

Here rather than beside the matching code (:mod:`tracker.stories.match`) so that reading the
config file does not load what matching needs (numpy).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoryRules:
    """Thresholds for joining a story; ``[stories]`` in tracker.toml overrides each one."""

    window_hours: float = 72.0  # rewrites and translations: how far apart in time
    text_days: float = 14.0  # near-identical copies: how far apart in time
    text_threshold: float = 0.5  # estimated shingle overlap (Jaccard) for a copy
    tag_overlap: float = 0.5  # share of tags in common (Dice) for an event join
    min_numbers: int = 2  # numbers in common for tags+numbers
    strong_tags: float = 0.65  # with this much tag overlap (4+ tags each), one number is enough
    title_overlap: float = 0.5  # headline words in common (Jaccard), tags+title, one language
    # The names rule (no vocabulary needed): what the headline and lead name and say, weighted
    # by how rare each word is in the store.
    names: bool = True  # false: only the rules above (as before issue 16)
    name_similarity: float = 0.22  # weighted cosine of headline+lead terms, same day
    name_similarity_per_day: float = 0.1  # ... rising by this much per day apart
    name_agreement: float = 0.3  # weighted cosine of the names alone, when both have names
    translated_share: float = 0.5  # another language: share of its names and figures in common
