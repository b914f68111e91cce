"""Cheap, deterministic source-language detection (script + frequent words).

Good enough to label the source and to make "swap" possible; it costs no GPU time.
"""

from __future__ import annotations

import re
from collections import Counter

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")

_STOPWORDS = {
    "fr": "le la les des un une et est en du que qui dans pour pas sur au avec ce il elle nous vous"
    " sont cette aux par plus je ne se mais ou été être avons",
    "en": "the and is are of to in that it for on with as was be this have from by not you we"
    " they at or an will would which",
    "es": "el la los las de que y en un una es por con para no se del al lo como más pero sus le"
    " ya está son",
    "de": "der die das und ist nicht ein eine zu den mit von sich des auf für im dem sie es wir"
    " ich auch werden wird",
    "it": "il lo la gli le di che e è un una per non con del della sono si da al nel anche come"
    " ma questo",
    "pt": "o a os as de que e é um uma para com não do da em no na por se mais como",
    "nl": "de het een en van is dat niet op te in zijn met voor er maar ook als bij",
}
_STOPWORD_SETS = {lang: frozenset(words.split()) for lang, words in _STOPWORDS.items()}


def detect_language(text: str, candidates: list[str]) -> str | None:
    """Best guess among `candidates`, or None when the text gives too little to go on."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return None
    if "ar" in candidates and len(_ARABIC.findall(text)) / len(letters) > 0.3:
        return "ar"
    words = [w.lower() for w in _WORD.findall(text)]
    scores: Counter[str] = Counter()
    for lang in candidates:
        stopwords = _STOPWORD_SETS.get(lang)
        if stopwords:
            scores[lang] = sum(1 for w in words if w in stopwords)
    if not scores:
        return None
    best, score = scores.most_common(1)[0]
    return best if score > 0 else None
