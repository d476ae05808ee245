"""The training toolchain: corpus, datasets, augmentation, losses, trainer, evaluation, export.

Kept apart from the run-time library (the rest of core/): the app never
imports anything from here (tests/test_architecture.py checks it).
"""
