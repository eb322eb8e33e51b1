"""Timing and benchmarking: engine benchmark against SF's tf backend (and Piquasso)."""
