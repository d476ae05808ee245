"""The offline training corpus: fetched from packages, labelled by teacher models, packed for a GPU."""
