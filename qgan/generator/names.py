"""Names of the generator's readouts, importable without TensorFlow (config validation
uses them; :mod:`qgan.generator.readout` computes them)."""

#: Expectations of the truncated state, in their feature-block order.
DETERMINISTIC = ("quadratures", "mean_photon", "photon_marginals", "fock_probs")
#: Measurement outcomes drawn from the state's Born distribution.
STOCHASTIC = ("photon_samples", "homodyne")
READOUTS = DETERMINISTIC + STOCHASTIC
#: Where a lossy generator's photon loss acts: before the readout, after every layer, or both.
LOSS_AT = ("measurement", "layers", "both")
