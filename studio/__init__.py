"""Backprop Studio: train a from-scratch NumPy network on handwritten digits and see into it."""
__version__ = "0.1.0"
