"""PyTorch peer of the CPU-scale backbone for `deno task bench`.

The architecture mirrors lib/nn/backbones/small_resnet.ts exactly (stem conv3x3
3->16 + BN + ReLU, four BasicBlock stages 16/32/64/128 with strides 1/2/2/2,
global average pooling) plus a bias-free linear identity classifier, trained
with softmax cross-entropy and Adam. It waits on stdin for lines "steps N" and
answers with the seconds the N steps took, so that the benchmark can alternate
between tfjs and PyTorch blocks inside one run.
"""
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout),
    )


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3, 1)
        self.down = conv_bn(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (x if self.down is None else self.down(x)))


class SmallResNet(nn.Module):
    def __init__(self, widths=(16, 32, 64, 128), strides=(1, 2, 2, 2), classes=100):
        super().__init__()
        self.stem = conv_bn(3, widths[0], 3, 1)
        blocks, cin = [], widths[0]
        for w, s in zip(widths, strides):
            blocks.append(BasicBlock(cin, w, s))
            cin = w
        self.blocks = nn.Sequential(*blocks)
        self.classifier = nn.Linear(cin, classes, bias=False)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.classifier(x.mean(dim=(2, 3)))


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = SmallResNet()
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-4)
    x = torch.randn(batch, 3, 64, 32)
    y = torch.randint(0, 100, (batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss.item()

    step()  # warm-up: allocator and kernels
    print(f"ready torch {torch.__version__} threads {torch.get_num_threads()}", flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        n = int(parts[1])
        start = time.perf_counter()
        for _ in range(n):
            step()
        print(f"{time.perf_counter() - start:.6f}", flush=True)


if __name__ == "__main__":
    main()
