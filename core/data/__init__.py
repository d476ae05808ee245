"""Training data: the offline corpus builder, manifest, standard-format loaders, augmentation."""
