"""The reproducible recipe that builds the shipped acoustic models (``v2s pretrain``)."""
