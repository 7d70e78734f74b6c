"""Spyx 1.0 (JAX, flax.nnx) on the three workloads (see common.py), with its own LIF, RLIF and
LI cells and the Linear layers outside the time loop ("hoisted": one matmul over the whole
sequence, as the fastest Spyx variant runs them).

    python scripts/peers/bench_jax.py --workload standard [--sizes 256]

Spyx reads the spike from the membrane carried in (`s = H(V - 1)`, then
`V = beta V + x - s`), one step later than the torch reference. Everything is jitted; each
timed call blocks until its result is ready, after 3 untimed compilation calls.
"""

import jax
import jax.numpy as jnp
import optax
from flax import nnx

import common
import spyx

LIBS = ["spyx"]


class Net(nnx.Module):
    def __init__(self, inputs, hidden, recurrent, readout, rngs):
        spike = spyx.axn.superspike(k=10)
        cell = spyx.nn.RLIF if recurrent else spyx.nn.LIF
        self.fc1 = nnx.Linear(inputs, hidden, rngs=rngs)
        self.lif = cell((hidden,), beta=0.95, threshold=1.0, activation=spike, rngs=rngs)
        self.fc2 = nnx.Linear(hidden, common.CLASSES, rngs=rngs) if readout else None
        self.li = spyx.nn.LI((common.CLASSES,), beta=0.95, rngs=rngs) if readout else None

    def __call__(self, x):  # time-major [T, B, in]
        c = self.fc1(x)

        def lif_step(v, c_t):
            s, v = self.lif(c_t, v)
            return v, s

        _, spikes = jax.lax.scan(lif_step, jnp.zeros(c.shape[1:]), c)
        if self.fc2 is None:
            return spikes

        def li_step(u, c_t):
            out, u = self.li(c_t, u)
            return u, out

        c2 = self.fc2(spikes)
        _, u = jax.lax.scan(li_step, jnp.zeros(c2.shape[1:]), c2)
        return u.sum(0)


def main():
    args = common.arguments(LIBS)
    for size in args.sizes:
        x, y = common.data(args.workload, size, args.quick)
        x = jnp.asarray(x).transpose(1, 0, 2)  # time-major, untimed
        y = jnp.asarray(y)
        on = args.workload == "on"
        model = Net(x.shape[-1], size, args.workload == "recurrent", not on, nnx.Rngs(0))
        graph, params = nnx.split(model, nnx.Param)
        optim = optax.adam(1e-3)
        opt_state = optim.init(params)

        def loss(params):
            out = nnx.merge(graph, params)(x)
            if on:
                return out.sum()
            return optax.softmax_cross_entropy_with_integer_labels(out, y).mean()

        @jax.jit
        def train(params, opt_state):
            value, grads = jax.value_and_grad(loss)(params)
            if on:  # fwd+bwd only: return the gradients so that XLA keeps the backward pass
                return value, grads, opt_state
            updates, opt_state = optim.update(grads, opt_state, params)
            return value, optax.apply_updates(params, updates), opt_state

        forward = jax.jit(lambda params: nnx.merge(graph, params)(x))
        rate = jax.jit(lambda params: hidden_rate(nnx.merge(graph, params), x))(params)

        def train_call():
            jax.block_until_ready(train(params, opt_state))

        def forward_call():
            jax.block_until_ready(forward(params))

        for _ in range(3):  # compile
            train_call()
            forward_call()
        version = spyx.__version__ if hasattr(spyx, "__version__") else spyx._version.__version__
        mode = "fwd+bwd" if on else "train"
        common.report(args, "spyx", version, size, mode, common.measure(train_call, args.quick), rate)
        common.report(args, "spyx", version, size, "forward", common.measure(forward_call, args.quick), rate)


def hidden_rate(model, x):
    fc2 = model.fc2
    model.fc2 = None
    try:
        return model(x).mean()
    finally:
        model.fc2 = fc2


if __name__ == "__main__":
    main()
