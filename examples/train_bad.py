"""A small training script with the kind of bugs dlx-lint finds (run `dlx-lint check examples/`).

It runs (on random data, CPU) and trains something, which is the point: none of these nine
bugs crash. Each one is marked with the rule that reports it.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class Classifier(nn.Module):
    def __init__(self, n_in: int = 20, n_hidden: int = 64, n_classes: int = 5):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Dropout(0.3))
        self.head = nn.Linear(n_hidden, n_classes)

    def forward(self, x):
        return F.softmax(self.head(self.body(x)), dim=-1)


def train(model: Classifier, loader, epochs: int = 3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    criterion = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        running = 0.0
        scheduler.step()  # DLX004: the schedule skips its first value
        for x, y in loader:
            loss = criterion(model(x), y)  # DLX011: the model already applies softmax
            loss.backward()
            optimizer.step()  # DLX001: gradients are never cleared
            running += loss  # DLX006: keeps every iteration's graph alive
        print(f"epoch {epoch}: mean loss {running / len(loader):.3f}")


def evaluate(model: Classifier, loader):
    correct = 0
    for x, y in loader:
        correct += (model(x).argmax(dim=1) == y).sum().item()  # DLX008 + DLX010
    return correct / len(loader.dataset)


def entropy(probs):
    return -(probs * torch.log(probs)).sum(dim=-1)  # DLX014: log(0) is -inf


if __name__ == "__main__":  # DLX022: nothing seeds the RNGs
    data = TensorDataset(torch.randn(256, 20), torch.randint(0, 5, (256,)))
    loader = DataLoader(data, batch_size=32, shuffle=True)
    model = Classifier()
    train(model, loader)
    print("accuracy", evaluate(model, loader))
    torch.save(model.state_dict(), "/tmp/classifier.pt")
    model.load_state_dict(torch.load("/tmp/classifier.pt"))  # DLX025: unpickles arbitrary objects
