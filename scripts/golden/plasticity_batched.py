"""Norse plasticity reference files with a batch axis, several neurons, a weight matrix that is
not one value and a non-zero initial state (the shipped STDP files start from one `w0` and zero
traces, the Tsodyks-Markram files are one synapse), written by Norse 1.1.0 itself (the torch
environment of scripts/peers/setup.sh), in the layout of tests/golden/README.md:

    python scripts/golden/plasticity_batched.py tests/golden

* norse_stdp_step_linear_multiplicative_pow_batched.json: `stdp_step_linear` with
  `multiplicative_pow` (mu = 0.5), batch 2, 4 presynaptic and 3 postsynaptic neurons, a
  `[3, 4]` initial weight and non-zero `[2, 4]` / `[2, 3]` traces.
* norse_tsodyks_makram_stp_step_batched.json: `stp_step` on `[T, 2, 3]` spikes from non-zero
  `[2, 3]` `u` and `x`.
"""

import json
import pathlib
import sys

import numpy as np
import torch

import norse
from norse.torch.functional.stdp import STDPParameters, STDPState, stdp_step_linear
from norse.torch.functional.tsodyks_makram import (
    TsodyksMakramParameters,
    TsodyksMakramState,
    stp_step,
)

DT = 0.001
GENERATOR = "scripts/golden/plasticity_batched.py"


def shaped(x):
    """The values rounded to 6 significant digits, nested as the tensor."""
    a = np.asarray(x, dtype=np.float64)
    flat = [float(f"{v:.6g}") for v in a.ravel()]
    return np.array(flat).reshape(a.shape).tolist()


def exact(x):
    """float32 values as the shortest decimals that round-trip."""
    return np.asarray(x, dtype=np.float32).tolist()


def spikes(rng, shape, p):
    return (rng.uniform(size=shape) < p).astype(np.float32)


def write(out, case):
    case.update(library="norse", library_version=norse.__version__, dtype="float32",
                generator=GENERATOR)
    path = out / f"{case['case']}.json"
    path.write_text(json.dumps(case, indent=1) + "\n")
    print(path)


def stdp_file(out):
    T, B, PRE, POST = 30, 2, 4, 3
    rng = np.random.RandomState(21)
    z_pre, z_post = spikes(rng, (T, B, PRE), 0.25), spikes(rng, (T, B, POST), 0.2)
    w0 = np.round(rng.uniform(0.1, 0.9, (POST, PRE)), 4).astype(np.float32)
    t_pre0 = np.round(rng.uniform(0.0, 0.8, (B, PRE)), 4).astype(np.float32)
    t_post0 = np.round(rng.uniform(0.0, 0.8, (B, POST)), 4).astype(np.float32)
    params = dict(a_pre=1.0, a_post=0.8, tau_pre_inv=25.0, tau_post_inv=40.0, w_min=0.0,
                  w_max=1.0, eta_plus=0.05, eta_minus=0.04, stdp_algorithm="multiplicative_pow",
                  mu=0.5, hardbound=True, convolutional=False)
    p = STDPParameters(**{k: (torch.as_tensor(v) if isinstance(v, float) else v)
                          for k, v in params.items()})
    w = torch.as_tensor(w0)
    s = STDPState(t_pre=torch.as_tensor(t_pre0), t_post=torch.as_tensor(t_post0))
    ws, pres, posts = [], [], []
    for t in range(T):
        w, s = stdp_step_linear(torch.as_tensor(z_pre[t]), torch.as_tensor(z_post[t]), w, s, p,
                                dt=DT)
        ws.append(w.numpy().copy()), pres.append(s.t_pre.numpy()), posts.append(s.t_post.numpy())
    write(out, {
        "case": "norse_stdp_step_linear_multiplicative_pow_batched",
        "function": "norse.torch.functional.stdp.stdp_step_linear(z_pre, z_post, w, "
        "state_stdp, p_stdp, dt)",
        "layout": f"z_pre [T={T}, batch={B}, n_pre={PRE}]; z_post [T, {B}, n_post={POST}]; "
        f"w [T, {POST}, {PRE}] after each step; w0 [{POST}, {PRE}]; initial_state t_pre "
        f"[{B}, {PRE}], t_post [{B}, {POST}]",
        "params": {**params, "dt": DT, "w0": exact(w0),
                   "initial_state": {"t_pre": exact(t_pre0), "t_post": exact(t_post0)}},
        "inputs": {"z_pre": z_pre.tolist(), "z_post": z_post.tolist()},
        "outputs": {"w": shaped(ws), "t_pre": shaped(pres), "t_post": shaped(posts)},
        "notes": "As norse_stdp_step_linear_*: traces updated before the weight update; here "
        "from a [post, pre] weight matrix and non-zero [batch, n] traces. Outputs rounded to 6 "
        "significant digits.",
    })


def tsodyks_makram_file(out):
    T, B, N = 200, 2, 3
    rng = np.random.RandomState(22)
    z = spikes(rng, (T, B, N), 0.08)
    u0 = np.round(rng.uniform(0.0, 0.5, (B, N)), 4).astype(np.float32)
    x0 = np.round(rng.uniform(0.5, 1.0, (B, N)), 4).astype(np.float32)
    params = dict(tau_f_inv=1 / 0.6, tau_s_inv=50.0, tau_d_inv=10.0, U=0.3)
    p = TsodyksMakramParameters(**params)
    s = TsodyksMakramState(u=torch.as_tensor(u0), x=torch.as_tensor(x0))
    outs, us, xs = [], [], []
    for t in range(T):
        o, s = stp_step(torch.as_tensor(z[t]), s, p, dt=DT)
        outs.append(o.numpy()), us.append(s.u.numpy()), xs.append(s.x.numpy())
    write(out, {
        "case": "norse_tsodyks_makram_stp_step_batched",
        "function": "norse.torch.functional.tsodyks_makram.stp_step(z, state, p, dt)",
        "layout": f"z [T={T}, batch={B}, N={N}]; out, u, x [T, {B}, {N}] after each step; "
        f"initial_state u, x [{B}, {N}]",
        "params": {**params, "dt": DT,
                   "initial_state": {"u": exact(u0), "x": exact(x0)}},
        "inputs": {"z": z.tolist()},
        "outputs": {"out": shaped(outs), "u": shaped(us), "x": shaped(xs)},
        "notes": "As norse_tsodyks_makram_stp_step_*: u_p = u + dt*(-tau_f_inv*u) + "
        "U*(1-u)*z; x_p = x + dt*tau_d_inv*(1-x) - u_p*x*z; out = u_p*x*z; here [batch, N] "
        "synapses from a non-zero state. Outputs rounded to 6 significant digits.",
    })


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "tests/golden")
    torch.set_grad_enabled(False)
    stdp_file(out)
    tsodyks_makram_file(out)


if __name__ == "__main__":
    main()
