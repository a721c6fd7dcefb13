"""Figures of the training and results chapters 07-10 (histories, confusion matrices, comparisons)."""

__all__: list[str] = []
