"""Default gains of SPSA, importable without TensorFlow (config validation reads them;
:mod:`qgan.qubit.gradients` uses them).

The perturbation is c_k = c / (k + 1)**gamma and the learning rate
a_k = a / (k + 1 + A)**alpha at iteration k (Spall 1998).
"""

#: Spall (1998) gains: alpha = 0.602 and gamma = 0.101 are his practical choices (the
#: asymptotically optimal 1 and 1/6 adapt worse in finite samples); c should be about the
#: standard deviation of the measurement noise (0.1: angles, readouts in [-1, 1]); A about
#: 10 % of the expected iterations; a such that a / (A + 1)**alpha times the gradient
#: magnitude is the first step wanted - calibrate a and A per problem.
SPSA_DEFAULTS = {"a": 0.1, "A": 10.0, "alpha": 0.602, "c": 0.1, "gamma": 0.101}
