"""How blind are the battles? A simple text classifier's per-model accuracy at naming the
model that wrote an answer (Huang et al. 2025 report > 95 % on arena answers).

TF-IDF of word and character n-grams with a linear classifier (logistic regression),
evaluated by stratified k-fold cross-validation: each answer is predicted by a classifier
that never saw it. Chance is 1 / number of models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Identifiability:
    accuracy: float  # share of answers whose model is named correctly
    chance: float
    per_model: dict[str, float]  # recall per model
    answers: int
    folds: int


def identifiability(
    texts: Sequence[str], models: Sequence[str], folds: int = 5, seed: int = 0
) -> Identifiability:
    try:
        from sklearn.feature_extraction.text import (  # type: ignore[import-untyped]
            TfidfVectorizer,
        )
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
        from sklearn.model_selection import (  # type: ignore[import-untyped]
            StratifiedKFold,
            cross_val_predict,
        )
        from sklearn.pipeline import make_pipeline, make_union  # type: ignore[import-untyped]
    except ImportError:
        raise RuntimeError(
            "identifiability needs scikit-learn: pip install 'glassarena[integrity]'"
        ) from None

    labels = np.asarray(models, dtype=object).astype(str)
    names, counts = np.unique(labels, return_counts=True)
    if len(names) < 2:
        raise ValueError("identifiability needs answers from at least two models")
    folds = min(folds, int(counts.min()))
    if folds < 2:
        raise ValueError("every model needs at least two answers for cross-validation")
    classifier = make_pipeline(
        make_union(
            TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True),
            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), min_df=2, sublinear_tf=True),
        ),
        LogisticRegression(max_iter=2000, C=10.0),
    )
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(classifier, list(texts), labels, cv=splitter)
    correct = predicted == labels
    per_model = {str(name): float(correct[labels == name].mean()) for name in names}
    return Identifiability(float(correct.mean()), 1.0 / len(names), per_model, len(labels), folds)
