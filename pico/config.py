"""Defaults shared by more than one entry point, each written once.

This module imports nothing heavy, so the command line can read its defaults without
loading numpy or pandas.
"""

from __future__ import annotations

__all__ = ["CATCH_ALL_NAMES", "MAX_TEXT_CHARS", "MIN_CLASS_RECALL"]

#: Default longest text featurized, in characters. The default featurizer's character
#: n-grams take about 180 bytes of memory per character of a text (docs/limits.md), so a
#: pasted transcript of 50 MB in one cell would need 9 GB; 10,000 characters (a few
#: pages, far beyond any utterance) bound one row at about 2 MB.
MAX_TEXT_CHARS = 10_000

#: Labels read as a catch-all (out-of-scope) intent by ``catch_all="auto"``, compared
#: after case folding and dropping everything but letters and digits (so ``OOS``,
#: ``out_of_scope``, ``Out-of-scope`` and ``NO_NODES_DETECTED`` all match). They are
#: the names chatbot platforms and public intent datasets give it: Rasa's
#: ``nlu_fallback``, LUIS/CLU's ``None``, Dialogflow's ``Default Fallback Intent``,
#: CLINC150's ``oos``, HINT3's ``NO_NODES_DETECTED``.
CATCH_ALL_NAMES = frozenset({
    "oos", "outofscope", "outofdomain", "nonodesdetected", "nlufallback", "fallback",
    "defaultfallbackintent", "none", "nointent", "other", "others", "unknown",
})

#: A move out of a class is left to review when the checkers recognise fewer than this
#: share of the class's own rows (held-out top-1 agreement with the labels they trained
#: on): their evidence against such a class (a few rows, or a heterogeneous one) is
#: weak. One half: the checkers are right about the class less often than not.
MIN_CLASS_RECALL = 0.5
