"""The torch peers on the three workloads (see common.py): a plain torch loop, snnTorch,
Norse and SpikingJelly, each with its own LIF.

    python scripts/peers/bench_torch.py --workload standard [--sizes 256] [--libs snntorch]

Prints one JSON line per (library, size, mode). Modes: `train` (forward + backward + Adam;
fwd+bwd for `on`) and `forward` (no autograd).
"""

import torch
from torch import nn

import common

torch.set_num_threads(2)
LIBS = ["torch-loop", "snntorch", "norse", "spikingjelly"]
BETA, SLOPE = 0.95, 10.0


class FastSigmoidSpike(torch.autograd.Function):
    """H(x) forward, 1/(1 + 10|x|)^2 backward."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return (x > 0).to(x.dtype)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / (1 + SLOPE * x.abs()) ** 2


class TorchLoop(nn.Module):
    """The reference: v = 0.95 v + c; s = H(v - 1); v -= s (reset not differentiated)."""

    def __init__(self, inputs, hidden, recurrent, readout):
        super().__init__()
        self.fc1 = nn.Linear(inputs, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False) if recurrent else None
        self.fc2 = nn.Linear(hidden, common.CLASSES) if readout else None

    # every loop walks `unbind(0)`: indexing c[t] would make each step's backward write a
    # whole [T, B, H] gradient (O(T^2))
    def forward(self, x):  # x time-major [T, B, in]
        c = self.fc1(x)
        v = torch.zeros_like(c[0])
        s = torch.zeros_like(c[0])
        spikes = []
        for c_t in c.unbind(0):
            i = c_t + self.rec(s) if self.rec is not None else c_t
            v = BETA * v + i
            s = FastSigmoidSpike.apply(v - 1.0)
            v = v - s.detach()
            spikes.append(s)
        return readout(self.fc2, torch.stack(spikes))


def readout(fc2, spikes):
    """The LI readout u = 0.95 u + fc2(s), summed over time, or the spikes without one."""
    if fc2 is None:
        return spikes
    c = fc2(spikes)
    u = torch.zeros_like(c[0])
    trace = []
    for c_t in c.unbind(0):
        u = BETA * u + c_t
        trace.append(u)
    return torch.stack(trace).sum(0)


class SnnTorch(nn.Module):
    def __init__(self, inputs, hidden, recurrent, readout):
        super().__init__()
        import snntorch as snn
        from snntorch import surrogate

        grad = surrogate.fast_sigmoid(slope=SLOPE)
        self.fc1 = nn.Linear(inputs, hidden)
        if recurrent:
            self.lif = snn.RLeaky(beta=BETA, threshold=1.0, spike_grad=grad,
                                  reset_mechanism="subtract", all_to_all=True,
                                  linear_features=hidden)
        else:
            self.lif = snn.Leaky(beta=BETA, threshold=1.0, spike_grad=grad,
                                 reset_mechanism="subtract")
        self.recurrent = recurrent
        self.fc2 = nn.Linear(hidden, common.CLASSES) if readout else None

    def forward(self, x):
        c = self.fc1(x)
        if self.recurrent:
            s, mem = self.lif.init_rleaky()
        else:
            mem = self.lif.init_leaky()
        spikes = []
        for c_t in c.unbind(0):
            if self.recurrent:
                s, mem = self.lif(c_t, s, mem)
            else:
                s, mem = self.lif(c_t, mem)
            spikes.append(s)
        return readout(self.fc2, torch.stack(spikes))


class Norse(nn.Module):
    """LIFBoxCell (no synaptic current, subtractive reset); Norse scales the input by
    dt/tau = 0.05 at tau_mem_inv = 50, dt = 1 ms."""

    def __init__(self, inputs, hidden, recurrent, readout):
        super().__init__()
        import norse.torch as norse
        from norse.torch.functional.reset import reset_subtract

        p = norse.LIFBoxParameters(tau_mem_inv=torch.tensor(50.0), v_th=torch.tensor(1.0),
                                   reset_method=reset_subtract, method="super",
                                   alpha=torch.tensor(SLOPE))
        self.fc1 = nn.Linear(inputs, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False) if recurrent else None
        self.lif = norse.LIFBoxCell(p, dt=1e-3)
        self.fc2 = nn.Linear(hidden, common.CLASSES) if readout else None

    def forward(self, x):
        c = self.fc1(x)
        state, s = None, torch.zeros_like(c[0])
        spikes = []
        for c_t in c.unbind(0):
            i = c_t + self.rec(s) if self.rec is not None else c_t
            s, state = self.lif(i, state)
            spikes.append(s)
        return readout(self.fc2, torch.stack(spikes))


class SpikingJelly(nn.Module):
    """LIFNode(tau=20, decay_input=False, soft reset): multi-step over the sequence, or stepped by
    hand with the recurrent Linear."""

    def __init__(self, inputs, hidden, recurrent, readout):
        super().__init__()
        from spikingjelly.activation_based import neuron, surrogate

        mode = "s" if recurrent else "m"
        self.fc1 = nn.Linear(inputs, hidden)
        self.rec = nn.Linear(hidden, hidden, bias=False) if recurrent else None
        self.lif = neuron.LIFNode(tau=20.0, decay_input=False, v_reset=None,
                                  surrogate_function=surrogate.SoftSign(alpha=SLOPE),
                                  step_mode=mode)
        self.fc2 = nn.Linear(hidden, common.CLASSES) if readout else None

    def forward(self, x):
        from spikingjelly.activation_based import functional

        functional.reset_net(self)
        c = self.fc1(x)
        if self.rec is None:
            spikes = self.lif(c)
        else:
            s, out = torch.zeros_like(c[0]), []
            for c_t in c.unbind(0):
                s = self.lif(c_t + self.rec(s))
                out.append(s)
            spikes = torch.stack(out)
        return readout(self.fc2, spikes)


MODELS = {"torch-loop": TorchLoop, "snntorch": SnnTorch, "norse": Norse,
          "spikingjelly": SpikingJelly}


def version(lib):
    from importlib.metadata import version as installed

    return installed({"torch-loop": "torch"}.get(lib, lib))


def main():
    args = common.arguments(LIBS)
    for lib in args.libs:
        for size in args.sizes:
            x, y = common.data(args.workload, size, args.quick)
            x = torch.from_numpy(x).transpose(0, 1).contiguous()  # time-major, untimed
            y = torch.from_numpy(y).long()
            torch.manual_seed(0)
            on = args.workload == "on"
            model = MODELS[lib](x.shape[-1], size, args.workload == "recurrent", not on)
            optim = torch.optim.Adam(model.parameters(), lr=1e-3)

            def loss():
                out = model(x)
                return out.sum() if on else nn.functional.cross_entropy(out, y)

            def train():
                optim.zero_grad()
                loss().backward()
                if not on:
                    optim.step()

            def forward():
                with torch.no_grad():
                    model(x)

            with torch.no_grad():  # the hidden spike rate with the initial weights
                rate = hidden_rate(model, x)
            mode = "fwd+bwd" if on else "train"
            common.report(args, lib, version(lib), size, mode, common.measure(train, args.quick), rate)
            common.report(args, lib, version(lib), size, "forward", common.measure(forward, args.quick), rate)


def hidden_rate(model, x):
    """The fraction of hidden [T, B, H] entries that spike, from the model without its readout."""
    fc2 = model.fc2
    model.fc2 = None
    try:
        return model(x).mean().item()
    finally:
        model.fc2 = fc2


if __name__ == "__main__":
    main()
