"""A Spyx reference file with another width and a non-zero initial membrane, written by Spyx
1.0.0 itself (the jax environment of scripts/peers/setup.sh), in the layout of
tests/golden/README.md:

    python scripts/golden/spyx_state.py tests/golden

* spyx_nn_lif_initial_state.json: `spyx.nn.LIF((3,), beta=0.85, threshold=0.8,
  activation=spyx.axn.superspike(k=25))` called per step from a `[batch, 3]` membrane `V0`;
  input `[T, batch, 3]`; the output spikes and the membrane after every step, and
  d(sum of spikes)/dx.
* spyx_nn_{lif,alif,cubalif,if,li}_per_neuron.json: each model built as a Spyx user builds it
  when the decays are left out (`beta=None`, `alpha=None`, `gamma=None`: Spyx draws one decay
  per neuron from a truncated normal around 0.5, `nnx.Rngs(seed)`), with a per-neuron threshold
  array (LI: its trained `beta` set per neuron), 5 neurons, from a non-zero state in Spyx's layout (`[batch, 5]`, or `[batch, 10]` =
  `concat([V, Th])` / `concat([V, I])`); the decays are written as Spyx drew them (unclipped).
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


def run_per_step(layer, x, state0):
    """`layer` called per step over `x` `[T, ...]` from `state0`: the outputs and the state
    after every step, and d(sum of outputs)/dx."""

    def run(x):
        state, outputs, states = jnp.asarray(state0), [], []
        for t in range(x.shape[0]):
            o, state = layer(x[t], state)
            outputs.append(o), states.append(state)
        return jnp.stack(outputs), jnp.stack(states)

    outputs, states = run(jnp.asarray(x))
    grad = jax.grad(lambda x: run(x)[0].sum())(jnp.asarray(x))
    return outputs, states, grad


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
    x = np.round(np.random.RandomState(7).uniform(0.0, 0.6, (T, B, N)), 4).astype(np.float32)
    v0 = np.array([[0.5, -0.2, 0.79], [0.1, 0.9, 0.0]], dtype=np.float32)
    lif = snn.LIF((N,), beta=BETA, threshold=THRESHOLD, activation=spyx.axn.superspike(k=K),
                  rngs=nnx.Rngs(0))

    spikes, states, grad = run_per_step(lif, x, v0)
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
    per_neuron(out)


PN_T, PN_B, PN_N = 25, 2, 5


def per_neuron(out):
    """One file per Spyx model with Spyx's per-neuron decays and a non-zero initial state."""
    rng = np.random.RandomState(11)
    x = np.round(rng.uniform(-0.1, 0.7, (PN_T, PN_B, PN_N)), 4).astype(np.float32)
    threshold = np.array([0.6, 0.8, 1.0, 0.7, 0.9], dtype=np.float32)
    act = spyx.axn.superspike(k=K)
    models = {
        "lif": (lambda r: snn.LIF((PN_N,), threshold=jnp.asarray(threshold), activation=act,
                                  rngs=r), ["beta"], 1),
        "alif": (lambda r: snn.ALIF((PN_N,), threshold=jnp.asarray(threshold), activation=act,
                                    rngs=r), ["beta", "gamma"], 2),
        "cubalif": (lambda r: snn.CuBaLIF((PN_N,), threshold=jnp.asarray(threshold),
                                          activation=act, rngs=r), ["alpha", "beta"], 2),
        "if": (lambda r: snn.IF((PN_N,), threshold=jnp.asarray(threshold), activation=act),
               [], 1),
        "li": (lambda r: snn.LI((PN_N,), rngs=r), ["beta"], 1),
    }
    for seed, (name, (build, decays, width)) in enumerate(models.items()):
        layer = build(nnx.Rngs(seed + 1))
        if name == "li":
            # LI's default is 0.8 for every neuron: set the per-neuron decays a trained LI has
            layer.beta = nnx.Param(jnp.asarray([0.5, 0.9, 0.7, 0.95, 0.3], dtype=jnp.float32))
        state0 = np.round(rng.uniform(-0.3, 0.9, (PN_B, width * PN_N)), 4).astype(np.float32)
        if name == "alif":
            # the adaptation Th is a low-pass filter of spikes: in [0, 1)
            state0[:, PN_N:] = np.abs(state0[:, PN_N:]) * 0.5

        outputs, states, grad = run_per_step(layer, x, state0)
        params = {d: np.asarray(getattr(layer, d)[...], dtype=np.float32).tolist() for d in decays}
        if name != "li":
            params.update(threshold=threshold.tolist(), surrogate="superspike", k=K)
        params["initial_state"] = state0.tolist()
        case = {
            "case": f"spyx_nn_{name}_per_neuron",
            "library": "spyx",
            "library_version": "1.0.0",
            "function": f"spyx.nn.{type(layer).__name__}(({PN_N},), <decays None>, "
            "threshold=<[5] array>) called per step from a non-zero initial state",
            "layout": f"x [{PN_T}, {PN_B}, {PN_N}]; output [{PN_T}, {PN_B}, {PN_N}]; state "
            f"[{PN_T}, {PN_B}, {width * PN_N}]; initial_state [{PN_B}, {width * PN_N}]",
            "dtype": "float32",
            "params": params,
            "inputs": {"x": x.tolist()},
            "outputs": {
                "output": shaped(outputs),
                "state": shaped(states),
                "grad_sum_output_wrt_x": shaped(grad),
            },
            "notes": "Spyx 1.0.0 with the decays it draws per neuron when they are left out "
            "(truncated normal, stddev 0.25, + 0.5; clipped to [0, 1] at every step), a "
            "per-neuron threshold array, and a non-zero initial state in Spyx's concatenated "
            "layout. Values rounded to 6 significant digits.",
            "generator": "scripts/golden/spyx_state.py",
        }
        path = out / f"{case['case']}.json"
        path.write_text(json.dumps(case, indent=1) + "\n")
        spikes = int(np.asarray(outputs).sum()) if name != "li" else "-"
        print(f"{path}: {spikes} spikes of {outputs.size}; decays {params.get('beta')}")


if __name__ == "__main__":
    main()
