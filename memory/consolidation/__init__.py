"""Model-facing memory work of a background run: summarise, extract, reconcile, save."""
