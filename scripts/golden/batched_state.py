"""Reference files with a batch axis, a non-zero initial state and non-zero `v_leak`/`v_reset`
for the models whose shipped files have one neuron axis and a resting start, written by the peers
themselves (Norse 1.1.0, SpikingJelly 2.0.0; the environment of scripts/peers/setup.sh), in the
layout of tests/golden/README.md:

    python scripts/golden/batched_state.py tests/golden

* norse_iaf_feed_forward_step_batched.json: `iaf_feed_forward_step`.
* norse_lif_ex_feed_forward_step_batched.json: `lif_ex_feed_forward_step`.
* norse_lif_adex_feed_forward_step_batched.json: `lif_adex_feed_forward_step`.
* norse_lif_refrac_feed_forward_step_batched.json: `lif_refrac_feed_forward_step`, with a
  refractory counter that is non-zero at the start.
* norse_lsnn_feed_forward_step_batched.json: `lsnn_feed_forward_step`.
* norse_regularization_accumulators_batched.json: `regularize_step` with `spike_accumulator`
  and `voltage_accumulator` over a `lif_feed_forward_step` run with a batch axis, a non-zero
  `v_leak` and initial `v` and `i`.
* sj_lifnode_atan_soft_reset_batched.json, sj_ifnode_sigmoid_hard_reset_batched.json:
  SpikingJelly's multi-step `LIFNode` / `IFNode` started from a `[batch, N]` membrane.

Inputs are `[T, batch, N]`; every initial state is `[batch, N]`; outputs are recorded after
every step (and, for SpikingJelly, d(sum of spikes)/d(input)).
"""

import json
import pathlib
import sys

import numpy as np
import torch

import norse
import spikingjelly
from norse.torch.functional.iaf import IAFFeedForwardState, IAFParameters, iaf_feed_forward_step
from norse.torch.functional.lif import (
    LIFFeedForwardState,
    LIFParameters,
    lif_feed_forward_step,
)
from norse.torch.functional.regularization import (
    regularize_step,
    spike_accumulator,
    voltage_accumulator,
)
from norse.torch.functional.lif_adex import (
    LIFAdExFeedForwardState,
    LIFAdExParameters,
    lif_adex_feed_forward_step,
)
from norse.torch.functional.lif_ex import (
    LIFExFeedForwardState,
    LIFExParameters,
    lif_ex_feed_forward_step,
)
from norse.torch.functional.lif_refrac import (
    LIFRefracFeedForwardState,
    LIFRefracParameters,
    lif_refrac_feed_forward_step,
)
from norse.torch.functional.lsnn import (
    LSNNFeedForwardState,
    LSNNParameters,
    lsnn_feed_forward_step,
)
from spikingjelly.activation_based import neuron, surrogate

T, B, N = 40, 2, 3
DT = 0.001
GENERATOR = "scripts/golden/batched_state.py"


def shaped(x):
    """The values rounded to 6 significant digits, nested as the tensor."""
    a = np.asarray(x.detach() if torch.is_tensor(x) else x, dtype=np.float64)
    flat = [float(f"{v:.6g}") for v in a.ravel()]
    return np.array(flat).reshape(a.shape).tolist()


def inputs(seed, scale, offset=0.0):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, N, generator=g) * scale + offset).requires_grad_(True)


def state(rows):
    return torch.tensor(rows, dtype=torch.float32)


V0 = [[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]]
I0 = [[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]]


def norse_case(name, function, params, initial_state, x, outputs, notes):
    return {
        "case": name,
        "library": "norse",
        "library_version": norse.__version__,
        "function": function,
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; initial_state [batch, N]",
        "dtype": "float32",
        "params": {**params, "dt": DT, "initial_state": initial_state},
        "inputs": {"input_current": shaped(x)},
        "outputs": {k: shaped(torch.stack(v)) for k, v in outputs.items()},
        "notes": notes + " Values rounded to 6 significant digits.",
        "generator": GENERATOR,
    }


def run(step, x, s, p, fields):
    out = {"z": [], **{f: [] for f in fields}}
    for t in range(T):
        z, s = step(x[t], s, p, DT)
        out["z"].append(z)
        for f in fields:
            out[f].append(fields[f](s))
    return out


def iaf_file():
    v_th, v_reset = 0.8, -0.3
    p = IAFParameters(v_th=torch.tensor(v_th), v_reset=torch.tensor(v_reset), method="super")
    x = inputs(11, 0.2, -0.02)
    out = run(iaf_feed_forward_step, x, IAFFeedForwardState(v=state(V0)), p, {"v": lambda s: s.v})
    return norse_case(
        "norse_iaf_feed_forward_step_batched",
        "norse.torch.functional.iaf.iaf_feed_forward_step",
        {"v_th": v_th, "v_reset": v_reset, "method": "super", "alpha": 100.0},
        {"v": V0},
        x,
        out,
        "norse 1.1.0 iaf_feed_forward_step (v += x; spike at v > v_th; reset to v_reset) from a "
        "[batch, N] membrane.",
    )


def lif_ex_params():
    return dict(delta_T=0.4, tau_syn_inv=150.0, tau_mem_inv=80.0, v_leak=0.1, v_th=1.0, v_reset=-0.2)


def lif_ex_file():
    k = lif_ex_params()
    p = LIFExParameters(**{n: torch.tensor(v) for n, v in k.items()}, method="super")
    x = inputs(12, 3.0)
    s = LIFExFeedForwardState(v=state(V0), i=state(I0))
    out = run(lif_ex_feed_forward_step, x, s, p, {"v": lambda s: s.v, "i": lambda s: s.i})
    return norse_case(
        "norse_lif_ex_feed_forward_step_batched",
        "norse.torch.functional.lif_ex.lif_ex_feed_forward_step",
        {**k, "method": "super", "alpha": 100.0},
        {"v": V0, "i": I0},
        x,
        out,
        "norse 1.1.0 lif_ex_feed_forward_step with non-zero v_leak and v_reset from a "
        "[batch, N] state.",
    )


def lif_adex_file():
    k = dict(
        adaptation_current=3.0,
        adaptation_spike=0.05,
        tau_ada_inv=5.0,
        **lif_ex_params(),
    )
    p = LIFAdExParameters(**{n: torch.tensor(v) for n, v in k.items()}, method="super")
    x = inputs(13, 3.5)
    a0 = [[0.1, 0.0, 0.3], [0.0, 0.2, 0.05]]
    s = LIFAdExFeedForwardState(v=state(V0), i=state(I0), a=state(a0))
    fields = {"v": lambda s: s.v, "i": lambda s: s.i, "a": lambda s: s.a}
    out = run(lif_adex_feed_forward_step, x, s, p, fields)
    return norse_case(
        "norse_lif_adex_feed_forward_step_batched",
        "norse.torch.functional.lif_adex.lif_adex_feed_forward_step",
        {**k, "method": "super", "alpha": 100.0},
        {"v": V0, "i": I0, "a": a0},
        x,
        out,
        "norse 1.1.0 lif_adex_feed_forward_step with non-zero v_leak and v_reset from a "
        "[batch, N] state.",
    )


def lif_refrac_file():
    lif = dict(tau_syn_inv=150.0, tau_mem_inv=80.0, v_leak=0.1, v_th=1.0, v_reset=-0.2)
    p = LIFRefracParameters(
        lif=LIFParameters(**{n: torch.tensor(v) for n, v in lif.items()}, method="super"),
        rho_reset=torch.tensor(4.0),
    )
    x = inputs(14, 6.0)
    rho0 = [[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]]
    s = LIFRefracFeedForwardState(lif=LIFFeedForwardState(v=state(V0), i=state(I0)), rho=state(rho0))
    fields = {"v": lambda s: s.lif.v, "i": lambda s: s.lif.i, "rho": lambda s: s.rho}
    out = run(lif_refrac_feed_forward_step, x, s, p, fields)
    return norse_case(
        "norse_lif_refrac_feed_forward_step_batched",
        "norse.torch.functional.lif_refrac.lif_refrac_feed_forward_step",
        {"lif": {**lif, "method": "super", "alpha": 100.0}, "rho_reset": 4.0},
        {"v": V0, "i": I0, "rho": rho0},
        x,
        out,
        "norse 1.1.0 lif_refrac_feed_forward_step with non-zero v_leak and v_reset from a "
        "[batch, N] state whose refractory counter is already running.",
    )


def lsnn_file():
    k = dict(
        tau_syn_inv=150.0,
        tau_mem_inv=80.0,
        tau_adapt_inv=20.0,
        v_leak=0.1,
        v_th=1.0,
        v_reset=-0.2,
        beta=1.5,
    )
    p = LSNNParameters(**{n: torch.tensor(v) for n, v in k.items()}, method="super")
    x = inputs(15, 6.0)
    b0 = [[1.0, 1.2, 1.5], [1.1, 1.0, 1.3]]
    s = LSNNFeedForwardState(v=state(V0), i=state(I0), b=state(b0))
    fields = {"v": lambda s: s.v, "i": lambda s: s.i, "b": lambda s: s.b}
    out = run(lsnn_feed_forward_step, x, s, p, fields)
    return norse_case(
        "norse_lsnn_feed_forward_step_batched",
        "norse.torch.functional.lsnn.lsnn_feed_forward_step",
        {**k, "method": "super", "alpha": 100.0},
        {"v": V0, "i": I0, "b": b0},
        x,
        out,
        "norse 1.1.0 lsnn_feed_forward_step with non-zero v_leak and v_reset from a [batch, N] "
        "state, the adaptive threshold b away from v_th.",
    )


def sj_file(name, node, params, seed, scale):
    x = inputs(seed, scale)
    node.step_mode = "m"
    node.v = state(V0)
    spikes = node(x)
    v_seq = node.v_seq
    spikes.sum().backward()
    return {
        "case": name,
        "library": "spikingjelly",
        "library_version": spikingjelly.__version__ if hasattr(spikingjelly, "__version__") else "2.0.0",
        "function": f"spikingjelly.activation_based.neuron.{type(node).__name__}(step_mode='m', store_v_seq=True)",
        "layout": "x_seq [T, batch, N]; outputs [T, batch, N]; initial_v [batch, N]",
        "dtype": "float32",
        "params": {**params, "initial_v": V0, "step_mode": "m"},
        "inputs": {"x_seq": shaped(x)},
        "outputs": {
            "spike_seq": shaped(spikes),
            "v_seq": shaped(v_seq),
            "grad_sum_spikes_wrt_x": shaped(x.grad),
        },
        "notes": "SpikingJelly 2.0.0 multi-step node (torch backend) with node.v set to a "
        "[batch, N] membrane before the call. Values rounded to 6 significant digits.",
        "generator": GENERATOR,
    }


def sj_files():
    lif = neuron.LIFNode(
        tau=3.0,
        decay_input=True,
        v_threshold=1.0,
        v_reset=None,
        surrogate_function=surrogate.ATan(alpha=2.0),
        detach_reset=False,
        step_mode="m",
        store_v_seq=True,
    )
    lif_params = {
        "tau": 3.0,
        "decay_input": True,
        "v_threshold": 1.0,
        "v_reset": None,
        "detach_reset": False,
        "surrogate": "ATan",
        "surrogate_alpha": 2.0,
    }
    iff = neuron.IFNode(
        v_threshold=0.9,
        v_reset=-0.1,
        surrogate_function=surrogate.Sigmoid(alpha=4.0),
        detach_reset=False,
        step_mode="m",
        store_v_seq=True,
    )
    if_params = {
        "v_threshold": 0.9,
        "v_reset": -0.1,
        "detach_reset": False,
        "surrogate": "Sigmoid",
        "surrogate_alpha": 4.0,
    }
    return [
        sj_file("sj_lifnode_atan_soft_reset_batched", lif, lif_params, 16, 2.5),
        sj_file("sj_ifnode_sigmoid_hard_reset_batched", iff, if_params, 17, 0.6),
    ]


def regularization_file():
    params = dict(tau_syn_inv=200.0, tau_mem_inv=100.0, v_leak=0.1, v_th=1.0, v_reset=0.0,
                  method="super", alpha=100.0)
    p = LIFParameters(**{k: (torch.as_tensor(v) if isinstance(v, float) else v)
                         for k, v in params.items()})
    x = inputs(31, 6.0)
    s = LIFFeedForwardState(v=state(V0), i=state(I0))
    spikes_acc, volts_acc, spikes, volts = None, None, [], []
    with torch.no_grad():
        for t in range(T):
            z, s = lif_feed_forward_step(x[t], s, p, DT)
            _, spikes_acc = regularize_step(z, s, spike_accumulator, spikes_acc)
            _, volts_acc = regularize_step(z, s, voltage_accumulator, volts_acc)
            spikes.append(torch.as_tensor(spikes_acc).clone()), volts.append(volts_acc.clone())
    case = norse_case(
        "norse_regularization_accumulators_batched",
        "norse.torch.functional.regularization.regularize_step(z, s, accumulator, state) with "
        "spike_accumulator and voltage_accumulator, over lif_feed_forward_step",
        params,
        {"v": V0, "i": I0},
        x,
        {"spike_accumulator": spikes, "voltage_accumulator": volts},
        "spike_accumulator: state + z.sum() (one number over the batch and the neurons); "
        "voltage_accumulator: state + s.v (elementwise, the voltage after the reset). After "
        "each step.",
    )
    case["layout"] = ("input_current [T, batch, N]; spike_accumulator [T]; voltage_accumulator "
                      "[T, batch, N]; initial_state [batch, N]")
    return case


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
    files = [iaf_file(), lif_ex_file(), lif_adex_file(), lif_refrac_file(), lsnn_file(),
             regularization_file(), *sj_files()]
    for case in files:
        path = out / f"{case['case']}.json"
        path.write_text(json.dumps(case, indent=1) + "\n")
        if "spike_accumulator" in case["outputs"]:
            print(f"{path}: {int(case['outputs']['spike_accumulator'][-1])} spikes in all")
            continue
        z = np.asarray(case["outputs"].get("z", case["outputs"].get("spike_seq")))
        print(f"{path}: {int(z.sum())} spikes of {z.size}")


if __name__ == "__main__":
    main()
