"""The studio's engine: data sets, the network, training runs and model files. NumPy only, never Qt."""
