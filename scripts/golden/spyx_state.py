"""A Spyx reference file with another width and a non-zero initial membrane, written by Spyx
1.0.0 itself (the jax environment of scripts/peers/setup.sh), in the layout of
tests/golden/README.md:

    python scripts/golden/spyx_state.py tests/golden

* spyx_nn_lif_initial_state.json: `spyx.nn.LIF((3,), beta=0.85, threshold=0.8,
  activation=spyx.axn.superspike(k=25))` called per step from a `[batch, 3]` membrane `V0`;
  input `[T, batch, 3]`; the output spikes and the membrane after every step, and
  d(sum of spikes)/dx.
"""

import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

import spyx
import spyx.nn as snn

T, B, N = 30, 2, 3
BETA, THRESHOLD, K = 0.85, 0.8, 25


def shaped(x):
    a = np.asarray(x, dtype=np.float64)
    flat = [float(f"{v:.6g}") for v in a.ravel()]
    return np.array(flat).reshape(a.shape).tolist()


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
    x = np.round(np.random.RandomState(7).uniform(0.0, 0.6, (T, B, N)), 4).astype(np.float32)
    v0 = np.array([[0.5, -0.2, 0.79], [0.1, 0.9, 0.0]], dtype=np.float32)
    lif = snn.LIF((N,), beta=BETA, threshold=THRESHOLD, activation=spyx.axn.superspike(k=K),
                  rngs=nnx.Rngs(0))

    def run(x):
        v, spikes, states = jnp.asarray(v0), [], []
        for t in range(T):
            s, v = lif(x[t], v)
            spikes.append(s), states.append(v)
        return jnp.stack(spikes), jnp.stack(states)

    spikes, states = run(jnp.asarray(x))
    grad = jax.grad(lambda x: run(x)[0].sum())(jnp.asarray(x))
    case = {
        "case": "spyx_nn_lif_initial_state",
        "library": "spyx",
        "library_version": "1.0.0",
        "function": f"spyx.nn.LIF(({N},), beta={BETA}, threshold={THRESHOLD}, "
        f"activation=spyx.axn.superspike(k={K})) called per step from V0",
        "layout": f"x [{T}, {B}, {N}]; output [{T}, {B}, {N}]; state [{T}, {B}, {N}]; "
        f"initial_state [{B}, {N}]",
        "dtype": "float32",
        "params": {
            "beta": BETA,
            "threshold": THRESHOLD,
            "surrogate": "superspike",
            "k": K,
            "initial_state": v0.tolist(),
        },
        "inputs": {"x": x.tolist()},
        "outputs": {
            "output": shaped(spikes),
            "state": shaped(states),
            "grad_sum_output_wrt_x": shaped(grad),
        },
        "notes": "Spyx 1.0.0 LIF from a non-zero [batch, N] membrane: spikes = H(V - thr) "
        "from the membrane carried in, V = beta*V + x - spikes*thr. Values rounded to 6 "
        "significant digits.",
        "generator": "scripts/golden/spyx_state.py",
    }
    path = out / f"{case['case']}.json"
    path.write_text(json.dumps(case, indent=1) + "\n")
    print(f"{path}: {int(np.asarray(spikes).sum())} spikes of {spikes.size}")


if __name__ == "__main__":
    main()
