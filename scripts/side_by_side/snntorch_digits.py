"""The snnTorch side of docs/src/migration/snntorch.md's "One network, side by side": the same
classifier as the page's Rust code, on the digits shipped with burn-snn, as snnTorch users write it.
Run from the repository root with the torch environment of scripts/peers/setup.sh:

    python scripts/side_by_side/snntorch_digits.py

It prints the test accuracy after each of 5 epochs (a random 397 of the 1797 digits held out).
"""

import gzip, numpy as np, torch, torch.nn as nn
import snntorch as snn
from snntorch import spikegen, surrogate
import snntorch.functional as SF

torch.manual_seed(0)
rows = [l.split(",") for l in gzip.open("crates/snn-train/datasets/digits/digits.csv.gz", "rt")]
rows = [r for r in rows if len(r) == 65 and r[0].strip().replace(".", "").isdigit()]
x = torch.tensor([[float(v) / 16 for v in r[:64]] for r in rows])
y = torch.tensor([int(r[64]) for r in rows])
perm = torch.randperm(len(y)); x, y = x[perm], y[perm]
x_train, y_train, x_test, y_test = x[:1400], y[:1400], x[1400:], y[1400:]

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(64, 100)
        self.lif1 = snn.Leaky(beta=0.95)
        self.fc2 = nn.Linear(100, 10)
        self.lif2 = snn.Leaky(beta=0.95)

    def forward(self, x):  # x: [T, B, 64]
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spk_rec = []
        for x_t in x:
            spk1, mem1 = self.lif1(self.fc1(x_t), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spk_rec.append(spk2)
        return torch.stack(spk_rec)  # [T, B, 10]

net = Net()
optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
loss_fn = SF.ce_rate_loss()
for epoch in range(5):
    for i in range(0, len(y_train), 64):
        data = spikegen.rate(x_train[i:i + 64], num_steps=25)
        spk_rec = net(data)
        loss = loss_fn(spk_rec, y_train[i:i + 64])
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    with torch.no_grad():
        acc = SF.accuracy_rate(net(spikegen.rate(x_test, num_steps=25)), y_test)
    print(f"epoch {epoch + 1}: test accuracy {100 * acc:.1f} %")
