"""MobileFAN Live core: the run-time library (everything that is not GUI) and, in
core/training/, the training toolchain. Never imports Qt."""
