"""Runs a digits classifier exported by `snn-train nir export` in Norse's and snnTorch's own NIR
importers and prints the accuracy each reaches on all 1797 shipped digits, next to a numpy
simulation of NIR's definitions (what burn-snn's executor computes).

    python scripts/nir_peer_roundtrip.py digits.nir digits-0.1ms.nir

The first file is the export at the model's own dt (1 ms); the second the same model exported
with `--dt-ms 0.1`, because snnTorch 1.0's importer hard-codes dt = 1e-4 s. Needs torch, norse
1.1, snntorch 1.0 and nir 1.0.8 (the torch environment of scripts/peers/setup.sh).

Neither importer has a node for CubaLI (the classifier's readout): Norse's `from_nir` leaves it
out silently (its output is then the readout's input current), snnTorch's `import_from_nir`
raises `ValueError`. So each peer runs the file up to `fc2` through its importer, and the readout
is that peer's own leaky integrator built from the file's CubaLI parameters (Norse `LICell`,
snnTorch `Synaptic` without firing). Each result is printed both ways.
"""

import contextlib
import gzip
import io
import pathlib
import sys
import warnings

import nir
import numpy as np
import torch

warnings.filterwarnings("ignore")

import norse.torch as norse  # noqa: E402
import snntorch as snn  # noqa: E402
from snntorch.import_nir import import_from_nir  # noqa: E402

STEPS = 20  # per image at the model's dt, as snn-train trains it
ROOT = pathlib.Path(__file__).resolve().parent.parent
DIGITS = ROOT / "crates/snn-train/datasets/digits/digits.csv.gz"


def digits():
    rows = []
    for line in gzip.open(DIGITS, "rt"):
        fields = line.strip().split(",")
        if len(fields) == 65 and fields[0].replace(".", "").isdigit():
            rows.append(fields)
    x = np.array([[float(v) / 16 for v in r[:64]] for r in rows], dtype=np.float32)
    return x, np.array([int(r[64]) for r in rows])


def accuracy(trace, labels):
    """Argmax over classes of the maximum over time (snn-train's MaxOverTime scores)."""
    return 100.0 * float((np.stack(trace).max(0).argmax(1) == labels).mean())


def dt_of(graph):
    return float(np.asarray(graph.metadata["dt"]))


def without_readout(graph):
    """The graph with the CubaLI readout removed: fc2 feeds the output."""
    nodes = {k: v for k, v in graph.nodes.items() if k != "readout"}
    n = graph.nodes["readout"].tau_mem.shape[0]
    nodes["output"] = nir.Output(output_type={"output": np.array([n])})
    edges = [(a, "output" if b == "readout" else b) for a, b in graph.edges if a != "readout"]
    return nir.NIRGraph(nodes=nodes, edges=edges)


def readout_gain(node, dt):
    """Input scale that turns NIR's CubaLI into a current `c = (1 - dt/tau_syn) c + x'` feeding
    `v = v + (dt/tau_mem)(v_leak - v + c)` (Norse's LI): x' = r * (dt/tau_syn) * w_in * x."""
    return torch.tensor(node.r * dt / node.tau_syn * node.w_in, dtype=torch.float32)


def numpy_reference(graph, x, labels):
    """NIR's definitions, forward Euler at metadata.dt, current before membrane."""
    dt, n = dt_of(graph), graph.nodes

    def cuba(node, i, v, inp):
        i = i + dt / node.tau_syn * (node.w_in * inp - i)
        v = v + dt / node.tau_mem * ((node.v_leak - v) + node.r * i)
        return i, v

    i1 = v1 = np.zeros((len(x), n["lif"].tau_mem.shape[0]))
    i2 = v2 = np.zeros((len(x), n["readout"].tau_mem.shape[0]))
    trace = []
    for _ in range(STEPS):
        i1, v1 = cuba(n["lif"], i1, v1, x @ n["fc1"].weight.T + n["fc1"].bias)
        z = (v1 > n["lif"].v_threshold).astype(np.float32)
        v1 = np.where(z > 0, n["lif"].v_reset, v1)
        i2, v2 = cuba(n["readout"], i2, v2, z @ n["fc2"].weight.T + n["fc2"].bias)
        trace.append(v2)
    return accuracy(trace, labels)


def norse_run(graph, x, labels):
    dt, ro = dt_of(graph), graph.nodes["readout"]
    net = norse.from_nir(graph, dt=dt)  # drops the CubaLI readout without a word
    li = norse.LICell(
        norse.LIParameters(
            tau_syn_inv=torch.tensor(1 / ro.tau_syn, dtype=torch.float32),
            tau_mem_inv=torch.tensor(1 / ro.tau_mem, dtype=torch.float32),
            v_leak=torch.tensor(ro.v_leak, dtype=torch.float32),
        ),
        dt=dt,
    )
    gain = readout_gain(ro, dt)
    state = li_state = None
    as_imported, with_readout = [], []
    with torch.no_grad():
        for _ in range(STEPS):
            out, state = net(torch.from_numpy(x), state)
            as_imported.append(out.numpy())
            v, li_state = li(out * gain, li_state)
            with_readout.append(v.numpy())
    return accuracy(as_imported, labels), accuracy(with_readout, labels)


def snntorch_run(graph, x, labels):
    dt, ro = dt_of(graph), graph.nodes["readout"]
    assert abs(dt - 1e-4) < 1e-12, "snnTorch 1.0's importer steps at dt = 1e-4 s"
    # the importer prints its threshold rescaling (the w_scale "hack") for every node
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            import_from_nir(graph)
            whole = "loads"
        except Exception as e:  # noqa: BLE001 - reported, not hidden
            whole = f"{type(e).__name__}: {str(e).splitlines()[0][:80]}"
        net = import_from_nir(without_readout(graph))
    a, a_syn = dt / ro.tau_mem, dt / ro.tau_syn
    assert np.unique(a).size == 1 and np.unique(a_syn).size == 1, "uniform readout assumed"
    readout = snn.Synaptic(
        alpha=float(1 - a_syn[0]),
        beta=float(1 - a[0]),
        threshold=1e30,
        reset_mechanism="none",
        reset_delay=False,
    )
    gain = torch.tensor(a * ro.r * a_syn * ro.w_in, dtype=torch.float32)
    steps = round(STEPS * 1e-3 / dt)  # the model's 20 steps of 1 ms at snnTorch's 0.1 ms
    state = None
    syn, mem = readout.init_synaptic()
    trace = []
    with torch.no_grad():
        for _ in range(steps):
            out, state = net(torch.from_numpy(x), state)
            _, syn, mem = readout(out * gain, syn, mem)
            trace.append(mem.numpy())
    return whole, accuracy(trace, labels), steps


def main():
    model_dt, snntorch_file = sys.argv[1], sys.argv[2]
    x, labels = digits()
    graph = nir.read(model_dt)
    print(f"{model_dt}: dt = {dt_of(graph)} s, {len(labels)} digits, {STEPS} steps")
    print(f"  NIR definitions (numpy): {numpy_reference(graph, x, labels):.2f} %")
    imported, with_readout = norse_run(graph, x, labels)
    print(f"  norse from_nir as imported (CubaLI readout dropped): {imported:.2f} %")
    print(f"  norse from_nir + norse LICell readout: {with_readout:.2f} %")
    graph = nir.read(snntorch_file)
    whole, acc, steps = snntorch_run(graph, x, labels)
    print(f"{snntorch_file}: dt = {dt_of(graph)} s, {steps} steps")
    print(f"  snntorch import_from_nir of the whole file: {whole}")
    print(f"  snntorch import_from_nir up to fc2 + snntorch Synaptic readout: {acc:.2f} %")


if __name__ == "__main__":
    main()
