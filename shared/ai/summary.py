"""Extractive summaries: the sentences that carry the document's most frequent content words.

Used by the local provider (no generative model ships in a package here), and as the
fallback input trimming for a remote model.
"""

import re

_STOP_WORDS = (
    "a an and are as at be been but by for from has have he her his i in is it its of on or "
    "our she so that the their them there they this to was we were which will with you your "
    "not no can may also than then these those such into over under more most other"
)
_STOP = frozenset(_STOP_WORDS.split(" "))
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n{2,}")


def extractive_summary(text: str, max_sentences: int = 3, max_chars: int = 600) -> str:
    sentences = [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 20]
    if not sentences:
        return " ".join(text.split())[:max_chars]
    freq: dict[str, int] = {}
    for word in re.findall(r"[^\W\d_]{3,}", text.lower()):
        if word not in _STOP:
            freq[word] = freq.get(word, 0) + 1

    def score(sentence: str) -> float:
        words = [w for w in re.findall(r"[^\W\d_]{3,}", sentence.lower()) if w not in _STOP]
        return sum(freq.get(w, 0) for w in words) / (len(words) + 5)

    best = sorted(range(len(sentences)), key=lambda i: -score(sentences[i]))[:max_sentences]
    summary = " ".join(" ".join(sentences[i].split()) for i in sorted(best))
    return summary[:max_chars].rstrip()
