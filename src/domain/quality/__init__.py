"""Data quality: checks over a series' bars, anomalies (flagged, never deleted), scores, reconciliation."""
