"""MobileFAN Live core: the run-time library (everything that is not the window).

Never imports Qt (app/) or the training toolchain (training/, beside it);
tests/test_architecture.py keeps it so."""
