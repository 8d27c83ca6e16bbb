"""Recommendation tracking: the "what needs to improve" items of each report, linked across
reports, with what became of each.

``extract`` reads the items from a document's structure, ``track`` links them across
reports and gives each a status, ``stage`` answers questions about them.

Example::

    for entry in track_recommendations(documents, chunks, embedder):
        print(entry.status, entry.recommendation.text)
"""

from qa.features.recommendations.extract import extract_recommendations
from qa.features.recommendations.records import (
    DECISION,
    IMPROVEMENT,
    Evidence,
    Link,
    Place,
    Recommendation,
    TrackedRecommendation,
)
from qa.features.recommendations.stage import RecommendationStage
from qa.features.recommendations.track import snapshot_recommendations, track_recommendations

__all__ = [
    "DECISION",
    "IMPROVEMENT",
    "Evidence",
    "Link",
    "Place",
    "Recommendation",
    "RecommendationStage",
    "TrackedRecommendation",
    "extract_recommendations",
    "snapshot_recommendations",
    "track_recommendations",
]
