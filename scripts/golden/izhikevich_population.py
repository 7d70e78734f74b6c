"""A Norse Izhikevich reference file for a population: one `a, b, c, d` per neuron (the
excitatory and inhibitory cells of Izhikevich's 2003 network, "Simple model of spiking
neurons"), a batch axis and a per-neuron initial state, written by Norse 1.1.0 itself (the
torch environment of scripts/peers/setup.sh), in the layout of tests/golden/README.md:

    python scripts/golden/izhikevich_population.py tests/golden

* norse_izhikevich_population.json: `izhikevich_feed_forward_step` with tensor `a, b, c, d`
  (`[6]`: 4 excitatory, 2 inhibitory cells), `tau_inv = 250` (0.25 ms model steps, Norse's default), input
  `[T, 2, 6]` (a constant drive plus Izhikevich's random thalamic input), from `[2, 6]` `v`
  and `u`; spikes, `v` and `u` after every step.
* norse_izhikevich_population_membrane.json: the same model with tensor `sq`, `mn`, `bias` and
  `tau_inv` too (`[4]`: 3 excitatory, 1 inhibitory cell, each its own time base), 200 steps.
"""

import json
import pathlib
import sys

import numpy as np
import torch

import norse
from norse.torch.functional.izhikevich import (
    IzhikevichParameters,
    IzhikevichState,
    izhikevich_feed_forward_step,
)

B = 2
DT = 0.001
TAU_INV = 250.0


def shaped(x):
    a = np.asarray(x, dtype=np.float64)
    flat = [float(f"{v:.6g}") for v in a.ravel()]
    return np.array(flat).reshape(a.shape).tolist()


def exact(x):
    return np.asarray(x, dtype=np.float32).tolist()


def population(out, T, NE, NI, seed, membrane=None):
    """Writes one population file; `membrane` gives tensor `sq`, `mn`, `bias`, `tau_inv`."""
    N = NE + NI
    rng = np.random.RandomState(seed)
    re, ri = rng.uniform(size=NE), rng.uniform(size=NI)
    # Izhikevich 2003: excitatory a = 0.02, b = 0.2, c = -65 + 15 r², d = 8 - 6 r²;
    # inhibitory a = 0.02 + 0.08 r, b = 0.25 - 0.05 r, c = -65, d = 2
    f32 = lambda v: np.round(np.asarray(v, dtype=np.float64), 4).astype(np.float32)
    a = f32(np.concatenate([np.full(NE, 0.02), 0.02 + 0.08 * ri]))
    b = f32(np.concatenate([np.full(NE, 0.2), 0.25 - 0.05 * ri]))
    c = f32(np.concatenate([-65 + 15 * re**2, np.full(NI, -65.0)]))
    d = f32(np.concatenate([8 - 6 * re**2, np.full(NI, 2.0)]))
    v0 = f32(-65.0 + rng.uniform(-5.0, 5.0, (B, N)))
    u0 = f32(b * v0)
    drive = np.concatenate([np.full(NE, 5.0), np.full(NI, 2.0)])
    x = f32(np.where(np.arange(T)[:, None, None] >= 20, 6.0, 0.0)
            + drive * rng.standard_normal((T, B, N)))
    extra = {} if membrane is None else {k: torch.as_tensor(f32(v)) for k, v in membrane.items()}
    p = IzhikevichParameters(a=torch.as_tensor(a), b=torch.as_tensor(b), c=torch.as_tensor(c),
                             d=torch.as_tensor(d), **{"tau_inv": TAU_INV, **extra})
    s = IzhikevichState(v=torch.as_tensor(v0), u=torch.as_tensor(u0))
    zs, vs, us = [], [], []
    with torch.no_grad():
        for t in range(T):
            z, s = izhikevich_feed_forward_step(torch.as_tensor(x[t]), s, p, dt=DT)
            zs.append(z.numpy()), vs.append(s.v.numpy()), us.append(s.u.numpy())
    name = "norse_izhikevich_population" + ("" if membrane is None else "_membrane")
    scalars = {"sq": p.sq, "mn": p.mn, "bias": p.bias, "tau_inv": TAU_INV}
    per_neuron = {} if membrane is None else {k: exact(f32(v)) for k, v in membrane.items()}
    case = {
        "case": name,
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.izhikevich.izhikevich_feed_forward_step(input, "
        "state, p, dt) with tensor a, b, c, d" + ("" if membrane is None else
                                                   ", sq, mn, bias, tau_inv"),
        "layout": f"input_current [T={T}, batch={B}, N={N}]; outputs [T, {B}, {N}]; a, b, c, d "
        f"[{N}]; initial_state v, u [{B}, {N}]",
        "dtype": "float32; params and inputs are exact float32 values; outputs rounded to 6 "
        "significant digits",
        "params": {
            "a": exact(a), "b": exact(b), "c": exact(c), "d": exact(d),
            **{k: per_neuron.get(k, v) for k, v in scalars.items() if k != "tau_inv"},
            "v_th": p.v_th, "tau_inv": per_neuron.get("tau_inv", TAU_INV),
            "method": p.method, "alpha": p.alpha, "dt": DT,
            "initial_state": {"v": exact(v0), "u": exact(u0)},
        },
        "inputs": {"input_current": x.tolist()},
        "outputs": {"z": shaped(zs), "v": shaped(vs), "u": shaped(us)},
        "notes": "Izhikevich (2003)'s population: 4 excitatory (a=0.02, b=0.2, c=-65+15r^2, "
        "d=8-6r^2) and 2 inhibitory (a=0.02+0.08r, b=0.25-0.05r, c=-65, d=2) cells, rounded to "
        "4 decimals; " + ("h = tau_inv*dt = 0.25 ms per step" if membrane is None else
                          "sq, mn, bias and tau_inv per neuron (h = tau_inv*dt per neuron)")
        + "; v' = v + h*(sq*v^2 + mn*v + bias - u + I); "
        "u' = u + h*a*(b*v - u); z = H(v' - v_th); v = (1-z) v' + z c; u = (1-z) u' + z (u' + d).",
        "generator": "scripts/golden/izhikevich_population.py",
    }
    path = out / f"{case['case']}.json"
    path.write_text(json.dumps(case, indent=1) + "\n")
    print(f"{path}: {int(np.asarray(zs).sum())} spikes of {np.asarray(zs).size}")


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
    population(out, 400, 4, 2, 2003)
    population(out, 200, 3, 1, 2004, membrane={
        "sq": [0.04, 0.045, 0.042, 0.04],
        "mn": [5.0, 5.2, 4.8, 5.0],
        "bias": [143.0, 139.0, 144.0, 145.0],
        "tau_inv": [250.0, 200.0, 300.0, 500.0],
    })


if __name__ == "__main__":
    main()
