"""The Norse side of docs/src/migration/norse.md's "One network, side by side": the same
classifier as the page's Rust code, on the digits shipped with burn-snn, as Norse users write it.
Run from the repository root with the torch environment of scripts/peers/setup.sh:

    python scripts/side_by_side/norse_digits.py

It prints the test accuracy after each of 5 epochs (a random 397 of the 1797 digits held out).
"""

import gzip, torch, torch.nn as nn
import norse.torch as norse

torch.manual_seed(0)
rows = [l.split(",") for l in gzip.open("crates/snn-train/datasets/digits/digits.csv.gz", "rt")]
rows = [r for r in rows if len(r) == 65 and r[0].strip().replace(".", "").isdigit()]
x = torch.tensor([[float(v) / 16 for v in r[:64]] for r in rows])
y = torch.tensor([int(r[64]) for r in rows])
perm = torch.randperm(len(y)); x, y = x[perm], y[perm]
x_train, y_train, x_test, y_test = x[:1400], y[:1400], x[1400:], y[1400:]

model = norse.SequentialState(
    nn.Linear(64, 100),
    norse.LIFCell(),          # tau_mem 10 ms, tau_syn 5 ms, dt 1 ms
    nn.Linear(100, 10),
    norse.LICell(),
)

def scores(images):           # the image as a constant current for 20 steps, time-major
    state, out = None, []
    for _ in range(20):
        v, state = model(images, state)
        out.append(v)
    return torch.stack(out).max(0).values      # max over time of the readout membrane

optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
for epoch in range(5):
    for i in range(0, len(y_train), 64):
        loss = nn.functional.cross_entropy(scores(x_train[i:i + 64]), y_train[i:i + 64])
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    with torch.no_grad():
        acc = (scores(x_test).argmax(1) == y_test).float().mean()
    print(f"epoch {epoch + 1}: test accuracy {100 * acc:.1f} %")
