"""Reference files with per-neuron parameters, a batch axis and a non-zero initial state, written
by the peers themselves (Norse 1.1.0, snnTorch 1.0.0; the environment of
scripts/peers/setup.sh), in the layout of tests/golden/README.md:

    python scripts/golden/per_neuron.py tests/golden

* norse_lif_feed_forward_step_per_neuron.json: `lif_feed_forward_step` with tensor
  `tau_mem_inv`, `tau_syn_inv` and `v_th` (one value per neuron), non-zero `v_leak` and
  `v_reset`, a `[batch, n]` initial state; input `[T, batch, n]`.
* norse_li_feed_forward_step_per_neuron.json: `li_feed_forward_step` with tensor `tau_mem_inv`
  and `tau_syn_inv`, a non-zero `v_leak`, a `[batch, n]` initial state; input `[T, batch, n]`.
* norse_li_feed_forward_step_per_neuron_potentials.json: the same with a tensor `v_leak`.
* norse_iaf_feed_forward_step_per_neuron.json: `iaf_feed_forward_step` with tensor `v_th` and
  `v_reset`, a `[batch, n]` initial membrane; input `[T, batch, n]` (forward traces only).
* norse_coba_lif_feed_forward_step_per_neuron.json: `coba_lif_feed_forward_step` with every
  parameter a tensor, a `[batch, n]` initial `v`, `g_e`, `g_i`, and d(sum of v)/d(input).
* norse_lif_ex_feed_forward_step_per_neuron_every_parameter.json,
  norse_lif_adex_feed_forward_step_per_neuron_every_parameter.json: every parameter a tensor
  (`delta_T`, and AdEx's `adaptation_current`, `adaptation_spike`, `tau_ada_inv` too).
* norse_lsnn_feed_forward_step_per_neuron.json: `lsnn_feed_forward_step` with every parameter
  a tensor, a `[batch, n]` initial `v`, `i`, `b` (forward traces only).
* norse_lif_feed_forward_step_per_neuron_potentials.json,
  norse_lif_ex_feed_forward_step_per_neuron_potentials.json,
  norse_lif_adex_feed_forward_step_per_neuron_potentials.json: the same with tensor `v_leak`
  and `v_reset` too.
* norse_lif_adex_feed_forward_step_per_neuron_adaptation.json: `lif_adex_feed_forward_step`
  with tensor `tau_ada_inv` and a `[batch, N]` initial `v`, `i`, `a`.
* norse_lif_ex_feed_forward_step_per_neuron.json, norse_lif_adex_feed_forward_step_per_neuron.json:
  `lif_ex_feed_forward_step` / `lif_adex_feed_forward_step` with tensor `tau_mem_inv`,
  `tau_syn_inv` and `v_th`, non-zero `v_leak` and `v_reset`, a `[batch, n]` initial state
  (forward traces only, as the shipped files of these functions).
* norse_lif_refrac_feed_forward_step_per_neuron.json,
  norse_lif_mc_feed_forward_step_per_neuron.json,
  norse_lif_mc_refrac_feed_forward_step_per_neuron.json: every `LIFParameters` field a tensor
  (and the refractory functions' `rho_reset`), a `[batch, n]` initial state with a running
  counter; the two `lif_mc` functions with a per-step chain coupling (forward traces only).
* norse_lif_step_recurrent_per_neuron.json: the recurrent `lif_step` with every
  `LIFParameters` field a tensor, spike inputs `[T, batch, 4]`, a `[batch, n]` initial `z`, `v`,
  `i` (forward traces only).
* norse_{lif,lif_ex,lif_adex}_current_encoder_per_neuron.json: the three current encoders on a
  constant current with every parameter a tensor and a `[batch, n]` initial `voltage` (and
  `adaptation`).
* snntorch_leaky_per_neuron.json: `snn.Leaky` with tensor `beta` and `threshold`, the subtractive
  delayed reset, a non-zero initial membrane per neuron; input `[T, batch, n]`.

Each records the outputs after every step and d(sum of spikes)/d(input).
"""

import json
import pathlib
import sys

import numpy as np
import torch

import norse
import snntorch as snn
from norse.torch.functional.leaky_integrator import (
    LIParameters,
    LIState,
    li_feed_forward_step,
)
from norse.torch.functional.lif import (
    LIFFeedForwardState,
    LIFParameters,
    lif_feed_forward_step,
)

T, B, N = 40, 2, 3


def shaped(x):
    """The values rounded to 6 significant digits, nested as the tensor."""
    a = np.asarray(x.detach() if torch.is_tensor(x) else x, dtype=np.float64)
    flat = [float(f"{v:.6g}") for v in a.ravel()]
    return np.array(flat).reshape(a.shape).tolist()


def inputs(seed, scale):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, N, generator=g) * scale).requires_grad_(True)


def traced(step, x, state, p, fields):
    """Runs `step` over the `T` steps of `x` from `state`; the spikes `z` and the state fields
    after every step, each stacked `[T, ...]`. A dotted field (`lif.v`) is read through the
    nested state and recorded under its last name (`v`)."""
    def read(state, field):
        for part in field.split("."):
            state = getattr(state, part)
        return state

    traces = {"z": [], **{f.split(".")[-1]: [] for f in fields}}
    for t in range(T):
        z, state = step(x[t], state, p, 0.001)
        traces["z"].append(z)
        for f in fields:
            traces[f.split(".")[-1]].append(read(state, f))
    return {k: torch.stack(v) for k, v in traces.items()}


def norse_file(potentials=False):
    """With `potentials`, `v_leak` and `v_reset` are tensors too."""
    tau_mem_inv = torch.tensor([100.0, 150.0, 60.0])
    tau_syn_inv = torch.tensor([200.0, 300.0, 120.0])
    v_th = torch.tensor([1.0, 0.8, 1.3])
    v_leak, v_reset, dt = 0.1, -0.2, 0.001
    if potentials:
        v_leak, v_reset = [0.1, -0.3, 0.4], [-0.2, 0.0, 0.3]
    p = LIFParameters(
        tau_syn_inv=tau_syn_inv,
        tau_mem_inv=tau_mem_inv,
        v_leak=torch.tensor(v_leak),
        v_th=v_th,
        v_reset=torch.tensor(v_reset),
        method="super",
        alpha=torch.tensor(100.0),
    )
    v0 = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    i0 = torch.tensor([[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]])
    x = inputs(1, 3.0)
    state = LIFFeedForwardState(v=v0, i=i0)
    zs, vs, is_ = [], [], []
    for t in range(T):
        z, state = lif_feed_forward_step(x[t], state, p, dt)
        zs.append(z), vs.append(state.v), is_.append(state.i)
    z = torch.stack(zs)
    z.sum().backward()
    return {
        "case": "norse_lif_feed_forward_step_per_neuron" + ("_potentials" if potentials else ""),
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.lif.lif_feed_forward_step",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            "tau_syn_inv": tau_syn_inv.tolist(),
            "tau_mem_inv": tau_mem_inv.tolist(),
            "v_leak": v_leak,
            "v_th": v_th.tolist(),
            "v_reset": v_reset,
            "method": "super",
            "alpha": 100.0,
            "dt": dt,
            "initial_state": {"v": v0.tolist(), "i": i0.tolist()},
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {
            "z": shaped(z),
            "v": shaped(torch.stack(vs)),
            "i": shaped(torch.stack(is_)),
            "grad_sum_z_wrt_input": shaped(x.grad),
        },
        "notes": "norse 1.1.0 lif_feed_forward_step with one value per neuron for tau_mem_inv, "
        + ("tau_syn_inv, v_th, v_leak and v_reset" if potentials else
           "tau_syn_inv and v_th, scalar non-zero v_leak and v_reset")
        + ", and a [batch, N] initial "
        "state. Values rounded to 6 significant digits. SuperSpike backward as norse 1.1.0 "
        "computes it (alpha not used).",
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_li_file(potentials=False):
    """With `potentials`, `v_leak` is a tensor too."""
    tau_mem_inv = torch.tensor([100.0, 40.0, 250.0])
    tau_syn_inv = torch.tensor([200.0, 80.0, 500.0])
    v_leak, dt = 0.2, 0.001
    if potentials:
        v_leak = [0.2, -0.4, 0.7]
    p = LIParameters(tau_syn_inv=tau_syn_inv, tau_mem_inv=tau_mem_inv, v_leak=torch.tensor(v_leak))
    v0 = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    i0 = torch.tensor([[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]])
    x = inputs(3, 2.0)
    state = LIState(v=v0, i=i0)
    vs, is_ = [], []
    for t in range(T):
        v, state = li_feed_forward_step(x[t], state, p, dt)
        vs.append(v), is_.append(state.i)
    return {
        "case": "norse_li_feed_forward_step_per_neuron" + ("_potentials" if potentials else ""),
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.leaky_integrator.li_feed_forward_step",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            "tau_syn_inv": tau_syn_inv.tolist(),
            "tau_mem_inv": tau_mem_inv.tolist(),
            "v_leak": v_leak,
            "dt": dt,
            "initial_state": {"v": v0.tolist(), "i": i0.tolist()},
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {"v": shaped(torch.stack(vs)), "i": shaped(torch.stack(is_))},
        "notes": "norse 1.1.0 li_feed_forward_step with one value per neuron for tau_mem_inv "
        + ("tau_syn_inv and v_leak" if potentials else
           "and tau_syn_inv, a scalar non-zero v_leak")
        + " and a [batch, N] initial state. Values rounded to 6 significant digits.",
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_iaf_file():
    """iaf_feed_forward_step with one threshold and one reset value per neuron."""
    from norse.torch.functional import iaf

    v_th = torch.tensor([0.8, 1.2, 0.5])
    v_reset = torch.tensor([-0.3, 0.1, 0.0])
    p = iaf.IAFParameters(v_th=v_th, v_reset=v_reset, method="super", alpha=torch.tensor(100.0))
    v0 = torch.tensor([[0.5, -0.1, 0.4], [0.0, 0.3, 0.2]])
    state = iaf.IAFFeedForwardState(v=v0)
    x = (inputs(7, 0.6) - 0.1).detach()
    zs, vs = [], []
    for t in range(T):
        z, state = iaf.iaf_feed_forward_step(x[t], state, p, 0.001)
        zs.append(z), vs.append(state.v)
    return {
        "case": "norse_iaf_feed_forward_step_per_neuron",
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.iaf.iaf_feed_forward_step",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            "v_th": v_th.tolist(),
            "v_reset": v_reset.tolist(),
            "method": "super",
            "alpha": 100.0,
            "dt": 0.001,
            "initial_state": {"v": v0.tolist()},
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {"z": shaped(torch.stack(zs)), "v": shaped(torch.stack(vs))},
        "notes": "norse 1.1.0 iaf_feed_forward_step (v += x; spike at v > v_th; reset to "
        "v_reset) with one v_th and one v_reset per neuron and a [batch, N] initial membrane. "
        "Values rounded to 6 significant digits.",
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_lsnn_file():
    """lsnn_feed_forward_step with every parameter a tensor (one value per neuron)."""
    from norse.torch.functional import lsnn

    k = dict(
        tau_syn_inv=[150.0, 300.0, 100.0],
        tau_mem_inv=[80.0, 120.0, 50.0],
        tau_adapt_inv=[20.0, 5.0, 50.0],
        v_leak=[0.1, -0.2, 0.3],
        v_th=[1.0, 0.8, 1.2],
        v_reset=[-0.2, 0.0, 0.1],
        beta=[1.5, 0.5, 2.5],
    )
    p = lsnn.LSNNParameters(**{n: torch.tensor(v) for n, v in k.items()}, method="super")
    v0 = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    i0 = torch.tensor([[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]])
    b0 = torch.tensor([[1.0, 1.2, 1.5], [1.1, 0.8, 1.3]])
    state = lsnn.LSNNFeedForwardState(v=v0, i=i0, b=b0)
    x = inputs(8, 6.0).detach()
    traces = traced(lsnn.lsnn_feed_forward_step, x, state, p, ("v", "i", "b"))
    return {
        "case": "norse_lsnn_feed_forward_step_per_neuron",
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.lsnn.lsnn_feed_forward_step",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            **k,
            "method": "super",
            "alpha": 100.0,
            "dt": 0.001,
            "initial_state": {"v": v0.tolist(), "i": i0.tolist(), "b": b0.tolist()},
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {k: shaped(v) for k, v in traces.items()},
        "notes": "norse 1.1.0 lsnn_feed_forward_step with one value per neuron for every "
        "parameter (tau_syn_inv, tau_mem_inv, tau_adapt_inv, v_leak, v_th, v_reset, beta) and a "
        "[batch, N] initial state. Values rounded to 6 significant digits.",
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_coba_lif_file():
    """coba_lif_feed_forward_step with every parameter a tensor (one value per neuron)."""
    from norse.torch.functional import coba_lif

    k = dict(
        tau_syn_exc_inv=[0.2, 50.0, 20.0],
        tau_syn_inh_inv=[0.2, 100.0, 20.0],
        c_m_inv=[5.0, 8.0, 6.0],
        g_l=[0.25, 0.4, 0.1],
        e_rev_I=[-100.0, -80.0, -90.0],
        e_rev_E=[60.0, 50.0, 70.0],
        v_rest=[-20.0, -30.0, -15.0],
        v_reset=[-14.0, -19.0, -12.0],
        v_thresh=[-10.0, -15.0, -8.0],
    )
    p = coba_lif.CobaLIFParameters(**{n: torch.tensor(v) for n, v in k.items()}, method="super",
                                   alpha=100.0)
    v0 = torch.tensor([[-20.0, -30.0, -15.0], [-12.0, -40.0, -6.0]])
    ge0 = torch.tensor([[0.0, 0.5, 1.0], [0.2, 0.0, 0.3]])
    gi0 = torch.tensor([[0.1, 0.0, 0.4], [0.0, 0.6, 0.0]])
    g = torch.Generator().manual_seed(11)
    x = (torch.randn(T, B, N, generator=g) * 0.6 + 0.3).requires_grad_(True)
    state = coba_lif.CobaLIFFeedForwardState(v=v0, g_e=ge0, g_i=gi0)
    traces = traced(coba_lif.coba_lif_feed_forward_step, x, state, p, ("v", "g_e", "g_i"))
    traces["v"].sum().backward()
    return {
        "case": "norse_coba_lif_feed_forward_step_per_neuron",
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.coba_lif.coba_lif_feed_forward_step",
        "layout": "input_tensor [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            **k,
            "method": "super",
            "alpha": 100.0,
            "dt": 0.001,
            "initial_state": {"v": v0.tolist(), "g_e": ge0.tolist(), "g_i": gi0.tolist()},
        },
        "inputs": {"input_tensor": shaped(x)},
        "outputs": {
            **{k: shaped(v) for k, v in traces.items()},
            "grad_sum_v_wrt_input": shaped(x.grad),
        },
        "notes": "norse 1.1.0 coba_lif_feed_forward_step with one value per neuron for every "
        "parameter (float32 tensors) and a [batch, N] initial v, g_e, g_i; the input is a "
        "signed conductance increment. Values rounded to 6 significant digits. "
        "grad_sum_v_wrt_input = d(sum of v after each step)/d(input), SuperSpike backward as "
        "norse 1.1.0 computes it (alpha not used).",
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_adex_adaptation_file():
    """lif_adex_feed_forward_step with one adaptation time constant per neuron."""
    from norse.torch.functional import lif_adex

    tau_ada_inv = torch.tensor([5.0, 20.0, 2.0])
    scalars = dict(tau_mem_inv=100.0, tau_syn_inv=200.0, v_th=1.0, delta_T=0.5, v_leak=0.0,
                   v_reset=0.0, adaptation_current=4.0, adaptation_spike=0.1)
    p = lif_adex.LIFAdExParameters(tau_ada_inv=tau_ada_inv,
                                   **{k: torch.tensor(v) for k, v in scalars.items()},
                                   method="super")
    v0 = torch.tensor([[0.2, 0.0, 0.4], [0.1, 0.3, 0.0]])
    i0 = torch.tensor([[0.0, 0.5, 0.2], [0.3, 0.0, 0.1]])
    a0 = torch.tensor([[0.2, 0.1, 0.0], [0.0, 0.3, 0.1]])
    state = lif_adex.LIFAdExFeedForwardState(v=v0, i=i0, a=a0)
    x = inputs(6, 3.0).detach()
    traces = traced(lif_adex.lif_adex_feed_forward_step, x, state, p, ("v", "i", "a"))
    return {
        "case": "norse_lif_adex_feed_forward_step_per_neuron_adaptation",
        "library": "norse",
        "library_version": norse.__version__,
        "function": "norse.torch.functional.lif_adex.lif_adex_feed_forward_step",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; tau_ada_inv [N]",
        "dtype": "float32",
        "params": {
            "tau_ada_inv": tau_ada_inv.tolist(),
            **scalars,
            "method": "super",
            "alpha": 100.0,
            "dt": 0.001,
            "initial_state": {"v": v0.tolist(), "i": i0.tolist(), "a": a0.tolist()},
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {k: shaped(v) for k, v in traces.items()},
        "notes": "norse 1.1.0 lif_adex_feed_forward_step with one adaptation time constant per "
        "neuron (tau_ada_inv = 5, 20, 2 /s) and a [batch, N] initial state. Values rounded to "
        "6 significant digits.",
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_exponential_file(adex, potentials=False, every=False):
    """With `potentials`, `v_leak` and `v_reset` are tensors too; with `every`, every parameter
    (`delta_T` and AdEx's `adaptation_current`, `adaptation_spike`, `tau_ada_inv` as well)."""
    from norse.torch.functional import lif_adex, lif_ex

    tau_mem_inv = torch.tensor([100.0, 150.0, 60.0])
    tau_syn_inv = torch.tensor([200.0, 300.0, 120.0])
    v_th = torch.tensor([1.0, 0.8, 1.3])
    scalars = dict(delta_T=0.4, v_leak=0.1, v_reset=-0.2)
    if adex:
        scalars.update(adaptation_current=3.0, adaptation_spike=0.05, tau_ada_inv=5.0)
    tensors = dict(tau_mem_inv=tau_mem_inv, tau_syn_inv=tau_syn_inv, v_th=v_th)
    if potentials or every:
        del scalars["v_leak"], scalars["v_reset"]
        tensors.update(v_leak=torch.tensor([0.1, -0.3, 0.4]), v_reset=torch.tensor([-0.2, 0.0, 0.3]))
    if every:
        for k, v in dict(delta_T=[0.4, 0.2, 0.8], adaptation_current=[3.0, 0.5, 6.0],
                         adaptation_spike=[0.05, 0.3, 0.0], tau_ada_inv=[5.0, 20.0, 2.0]).items():
            if k in scalars:
                del scalars[k]
                tensors[k] = torch.tensor(v)
    kind = lif_adex.LIFAdExParameters if adex else lif_ex.LIFExParameters
    p = kind(**tensors, **{k: torch.tensor(v) for k, v in scalars.items()}, method="super")
    v0 = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    i0 = torch.tensor([[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]])
    a0 = torch.tensor([[0.1, 0.0, 0.3], [0.0, 0.2, 0.05]])
    initial = {"v": v0.tolist(), "i": i0.tolist()}
    if adex:
        state = lif_adex.LIFAdExFeedForwardState(v=v0, i=i0, a=a0)
        step, fields = lif_adex.lif_adex_feed_forward_step, ("v", "i", "a")
        initial["a"] = a0.tolist()
    else:
        state = lif_ex.LIFExFeedForwardState(v=v0, i=i0)
        step, fields = lif_ex.lif_ex_feed_forward_step, ("v", "i")
    x = inputs((9 if adex else 10) if every else (4 if adex else 5), 3.0).detach()
    traces = traced(step, x, state, p, fields)
    name = "lif_adex" if adex else "lif_ex"
    return {
        "case": f"norse_{name}_feed_forward_step_per_neuron"
        + ("_every_parameter" if every else "_potentials" if potentials else ""),
        "library": "norse",
        "library_version": norse.__version__,
        "function": f"norse.torch.functional.{name}.{name}_feed_forward_step",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            **{k: v.tolist() for k, v in tensors.items()},
            **scalars,
            "method": "super",
            "alpha": 100.0,
            "dt": 0.001,
            "initial_state": initial,
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {k: shaped(v) for k, v in traces.items()},
        "notes": f"norse 1.1.0 {name}_feed_forward_step with one value per neuron for "
        + ("every parameter" if every else
           "tau_mem_inv, tau_syn_inv, v_th, v_leak and v_reset" if potentials else
           "tau_mem_inv, tau_syn_inv and v_th, scalar non-zero v_leak and v_reset")
        + ", and a [batch, N] initial state. Values rounded to 6 significant digits.",
        "generator": "scripts/golden/per_neuron.py",
    }


def snntorch_file():
    beta = torch.tensor([0.9, 0.8, 0.95])
    threshold = torch.tensor([1.0, 0.7, 1.4])
    lif = snn.Leaky(
        beta=beta,
        threshold=threshold,
        reset_mechanism="subtract",
        reset_delay=True,
        spike_grad=snn.surrogate.atan(alpha=2.0),
    )
    mem0 = torch.tensor([[0.3, 0.0, 1.0], [0.6, 0.2, -0.1]])
    x = inputs(2, 1.0)
    mem = mem0.clone()
    spks, mems = [], []
    for t in range(T):
        spk, mem = lif(x[t], mem)
        spks.append(spk), mems.append(mem)
    spk = torch.stack(spks)
    spk.sum().backward()
    return {
        "case": "snntorch_leaky_per_neuron",
        "library": "snntorch",
        "library_version": snn.__version__,
        "function": "snntorch.Leaky",
        "layout": "input_current [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]",
        "dtype": "float32",
        "params": {
            "beta": beta.tolist(),
            "threshold": threshold.tolist(),
            "reset_mechanism": "subtract",
            "surrogate": "atan",
            "alpha": 2.0,
            "reset_delay": True,
            "graded_spikes_factor": 1.0,
            "initial_mem": mem0.tolist(),
        },
        "inputs": {"input_current": shaped(x)},
        "outputs": {
            "spk": shaped(spk),
            "mem": shaped(torch.stack(mems)),
            "grad_sum_spk_wrt_input": shaped(x.grad),
        },
        "notes": "snntorch 1.0.0 Leaky with a tensor beta and threshold (one per neuron), "
        "subtractive delayed reset, a [batch, N] initial membrane. Values rounded to 6 "
        "significant digits.",
        "generator": "scripts/golden/per_neuron.py",
    }


def lif_tensors():
    """One value per neuron for every `LIFParameters` field (also the leaky fields of the
    exponential models): the values and Norse's `LIFParameters` of them."""
    tensors = dict(
        tau_mem_inv=[100.0, 150.0, 60.0],
        tau_syn_inv=[200.0, 300.0, 120.0],
        v_th=[1.0, 0.8, 1.3],
        v_leak=[0.1, -0.3, 0.4],
        v_reset=[-0.2, 0.0, 0.3],
    )
    p = LIFParameters(
        **{k: torch.tensor(v) for k, v in tensors.items()},
        method="super",
        alpha=torch.tensor(100.0),
    )
    return tensors, p


def norse_params(tensors):
    """The `params` of a Norse file whose parameters are `tensors` (method "super")."""
    return {**tensors, "method": "super", "alpha": 100.0}


def norse_case(case, function, layout, params, inputs, outputs, notes):
    """One reference file of Norse 1.1.0 in the layout of tests/golden/README.md."""
    return {
        "case": case,
        "library": "norse",
        "library_version": norse.__version__,
        "function": function,
        "layout": layout,
        "dtype": "float32",
        "params": params,
        "inputs": inputs,
        "outputs": outputs,
        "notes": notes,
        "generator": "scripts/golden/per_neuron.py",
    }


def norse_refractory_file(mc, refractory):
    """Norse's `lif_refrac_feed_forward_step` (`mc` false), `lif_mc_feed_forward_step`
    (`refractory` false) or `lif_mc_refrac_feed_forward_step`, with every `LIFParameters` field
    and `rho_reset` a tensor, and a `[batch, N]` initial state (a running counter too)."""
    from norse.torch.functional import lif_mc, lif_mc_refrac, lif_refrac
    from norse.torch.functional.lif import LIFFeedForwardState

    tensors, lif = lif_tensors()
    lif_json = norse_params(tensors)
    rho_reset = [3.0, 5.0, 1.0]
    v0 = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    i0 = torch.tensor([[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]])
    rho0 = torch.tensor([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    neuron = LIFFeedForwardState(v=v0, i=i0)
    # a per-step chain coupling, as the shipped lif_mc files (lif_mc_feed_forward_step
    # multiplies it by dt, so it gets 1000 times the value)
    chain = torch.tensor([[-1.0, 1.0, 0.0], [1.0, -2.0, 1.0], [0.0, 1.0, -1.0]]) * 0.04
    if refractory:
        p = lif_refrac.LIFRefracParameters(lif=lif, rho_reset=torch.tensor(rho_reset))
        state = lif_refrac.LIFRefracFeedForwardState(lif=neuron, rho=rho0)
        fields = ("lif.v", "lif.i", "rho")
        params = {"lif": lif_json, "rho_reset": rho_reset}
        initial = {"v": v0.tolist(), "i": i0.tolist(), "rho": rho0.tolist()}
    else:
        p, state, fields = lif, neuron, ("v", "i")
        params = dict(lif_json)
        initial = {"v": v0.tolist(), "i": i0.tolist()}
    if not mc:
        name, step, g = "lif_refrac", lif_refrac.lif_refrac_feed_forward_step, None
    elif refractory:
        g = chain
        name = "lif_mc_refrac"
        step = lambda x, s, p, dt: lif_mc_refrac.lif_mc_refrac_feed_forward_step(x, s, g, p, dt)
    else:
        g = chain * 1000.0
        name = "lif_mc"
        step = lambda x, s, p, dt: lif_mc.lif_mc_feed_forward_step(x, s, g, p, dt)
    key = "input_tensor" if mc else "input_current"
    x = inputs({"lif_refrac": 11, "lif_mc": 12, "lif_mc_refrac": 13}[name], 3.0).detach()
    traces = traced(step, x, state, p, fields)
    inputs_json = {key: shaped(x)}
    if g is not None:
        inputs_json["g_coupling"] = shaped(g)
    what = "every LIFParameters field" + (" and rho_reset" if refractory else "")
    return norse_case(
        f"norse_{name}_feed_forward_step_per_neuron",
        f"norse.torch.functional.{name}.{name}_feed_forward_step",
        f"{key} [T, batch, N]; outputs [T, batch, N]; per-neuron params [N]"
        + ("; g_coupling [N, N] (row = target compartment)" if mc else ""),
        {**params, "dt": 0.001, "initial_state": initial},
        inputs_json,
        {k: shaped(v) for k, v in traces.items()},
        f"norse 1.1.0 {name}_feed_forward_step with one value per neuron for {what}, "
        "and a [batch, N] initial state. Values rounded to 6 significant digits.",
    )


def norse_recurrent_file():
    """Norse's recurrent `lif_step` with every `LIFParameters` field a tensor, spike inputs
    `[T, batch, inputs]`, and a `[batch, N]` initial `z`, `v`, `i`."""
    from norse.torch.functional.lif import LIFState, lif_step

    tensors, p = lif_tensors()
    g = torch.Generator().manual_seed(14)
    x = (torch.rand(T, B, 4, generator=g) < 0.4).float()
    w_in = torch.rand(N, 4, generator=g) * 2.5
    w_rec = (torch.rand(N, N, generator=g) - 0.5) * 2.0
    z0 = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    v0 = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    i0 = torch.tensor([[0.2, 0.0, 1.0], [0.5, 0.1, 0.0]])
    step = lambda x, s, p, dt: lif_step(x, s, w_in, w_rec, p, dt)
    traces = traced(step, x, LIFState(z=z0, v=v0, i=i0), p, ("v", "i"))
    return norse_case(
        "norse_lif_step_recurrent_per_neuron",
        "norse.torch.functional.lif.lif_step(input_spikes, state, input_weights, "
        "recurrent_weights, p, dt)",
        "input_spikes [T, batch, inputs]; weights [out, in]; outputs [T, batch, N]; "
        "per-neuron params [N]",
        {
            **norse_params(tensors),
            "dt": 0.001,
            "initial_state": {"z": z0.tolist(), "v": v0.tolist(), "i": i0.tolist()},
        },
        {
            "input_spikes": shaped(x),
            "input_weights": shaped(w_in),
            "recurrent_weights": shaped(w_rec),
        },
        {k: shaped(v) for k, v in traces.items()},
        "norse 1.1.0 lif_step (recurrent: the previous step's spikes through "
        "recurrent_weights, autapses included) with one value per neuron for every LIFParameters "
        "field and a [batch, N] initial z, v, i. Values rounded to 6 significant digits.",
    )


def norse_current_encoder_file(kind):
    """Norse's `lif_current_encoder`, `lif_ex_current_encoder` or `lif_adex_current_encoder`
    (`kind`: "lif", "lif_ex", "lif_adex") called `T` times on a constant current, every
    parameter a tensor, a `[batch, N]` initial `voltage` (and `adaptation`)."""
    from norse.torch.functional import lif, lif_adex, lif_ex

    tensors = lif_tensors()[0]
    if kind != "lif":
        tensors["delta_T"] = [0.4, 0.2, 0.8]
    if kind == "lif_adex":
        # the encoder's adaptation update has no dt and no carried `a` (`a ← tau_ada_inv·(...)`,
        # the golden README): with tau_ada_inv >= 1 it grows geometrically until the membrane
        # is too large for its reset to round like ours; below 1 it stays bounded
        tensors.update(adaptation_current=[3.0, 0.5, 6.0], adaptation_spike=[0.05, 0.3, 0.0],
                       tau_ada_inv=[0.5, 0.8, 0.3])
    kinds = {
        "lif": (LIFParameters, lif.lif_current_encoder),
        "lif_ex": (lif_ex.LIFExParameters, lif_ex.lif_ex_current_encoder),
        "lif_adex": (lif_adex.LIFAdExParameters, lif_adex.lif_adex_current_encoder),
    }
    kind_params, encoder = kinds[kind]
    p = kind_params(**{k: torch.tensor(v) for k, v in tensors.items()}, method="super")
    g = torch.Generator().manual_seed({"lif": 15, "lif_ex": 16, "lif_adex": 17}[kind])
    x = torch.rand(B, N, generator=g) * 4.0
    v = torch.tensor([[0.5, -0.1, 0.9], [0.0, 0.3, 0.2]])
    a = torch.tensor([[0.1, 0.0, 0.3], [0.0, 0.2, 0.05]])
    initial = {"voltage": v.tolist()}
    traces = {"z": [], "v": [], **({"a": []} if kind == "lif_adex" else {})}
    steps = T
    for _ in range(steps):
        if kind == "lif_adex":
            z, v, a = encoder(x, v, a, p, 0.001)
            traces["a"].append(a)
        else:
            z, v = encoder(x, v, p, 0.001)
        traces["z"].append(z)
        traces["v"].append(v)
    if kind == "lif_adex":
        initial["adaptation"] = [[0.1, 0.0, 0.3], [0.0, 0.2, 0.05]]
    return norse_case(
        f"norse_{kind}_current_encoder_per_neuron",
        f"norse.torch.functional.{kind}.{kind}_current_encoder, called seq_length times",
        "input_current [batch, N] (constant); outputs [seq_length, batch, N]; "
        "per-neuron params [N]",
        {**norse_params(tensors), "dt": 0.001, "seq_length": steps, "initial_state": initial},
        {"input_current": shaped(x)},
        {k: shaped(torch.stack(v)) for k, v in traces.items()},
        f"norse 1.1.0 {kind}_current_encoder with every parameter a tensor (one value "
        "per neuron) and a [batch, N] initial state. Values rounded to 6 significant digits.",
    )


def main():
    out = pathlib.Path(sys.argv[1])
    cases = (
        norse_file(),
        norse_file(potentials=True),
        norse_li_file(),
        norse_li_file(potentials=True),
        norse_iaf_file(),
        norse_lsnn_file(),
        norse_coba_lif_file(),
        norse_exponential_file(adex=False),
        norse_exponential_file(adex=True),
        norse_exponential_file(adex=False, potentials=True),
        norse_exponential_file(adex=True, potentials=True),
        norse_exponential_file(adex=False, every=True),
        norse_exponential_file(adex=True, every=True),
        norse_adex_adaptation_file(),
        norse_refractory_file(mc=False, refractory=True),
        norse_refractory_file(mc=True, refractory=False),
        norse_refractory_file(mc=True, refractory=True),
        norse_recurrent_file(),
        norse_current_encoder_file("lif"),
        norse_current_encoder_file("lif_ex"),
        norse_current_encoder_file("lif_adex"),
        snntorch_file(),
    )
    for data in cases:
        outputs = data["outputs"]
        if "z" in outputs or "spk" in outputs:
            spikes = np.asarray(outputs["z" if "z" in outputs else "spk"])
            assert 0 < spikes.mean() < 1, data["case"]
        (out / f"{data['case']}.json").write_text(json.dumps(data, indent=1) + "\n")
        print(data["case"], "written")


if __name__ == "__main__":
    main()
