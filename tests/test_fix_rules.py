"""Per-rule fix behaviour beyond the bad examples: the shapes each fix handles, and the shapes
where it must not be offered (the finding stays, without a fix)."""

from __future__ import annotations

import pytest

from dlx_lint.diagnostics import Applicability

from .fix_cases import check_fix_case

SAFE, UNSAFE, DISPLAY = Applicability.SAFE, Applicability.UNSAFE, Applicability.DISPLAY_ONLY

# (rule, source, fixed source or None when no fix may be offered, applicability)
CASES = [
    # DLX001: the branch that holds backward and step; a `with` block is not a condition.
    ("DLX001", """
        import torch
        def train(model, loader, criterion, phase):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                if phase == "train":
                    criterion(model(x), y).backward()
                    opt.step()
        """, """
        import torch
        def train(model, loader, criterion, phase):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                if phase == "train":
                    opt.zero_grad(set_to_none=True)
                    criterion(model(x), y).backward()
                    opt.step()
        """, SAFE),
    ("DLX001", """
        import torch
        def train(model, loader, criterion, scaler):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                scaler.scale(criterion(model(x), y)).backward()
                with torch.no_grad():
                    scaler.step(opt)
                scaler.update()
        """, """
        import torch
        def train(model, loader, criterion, scaler):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                opt.zero_grad(set_to_none=True)
                scaler.scale(criterion(model(x), y)).backward()
                with torch.no_grad():
                    scaler.step(opt)
                scaler.update()
        """, SAFE),
    # ... but not when the step comes before the backward (clearing first would void it),
    ("DLX001", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                opt.step()
                criterion(model(x), y).backward()
        """, None, None),
    # nor when the optimizer is built inside the loop.
    ("DLX001", """
        import torch
        def train(model, loader, criterion):
            for x, y in loader:
                opt = torch.optim.SGD(model.parameters())
                criterion(model(x), y).backward()
                opt.step()
        """, None, None),
    # DLX004: a step under a condition or with an early exit in between is not moved.
    ("DLX004", """
        import torch
        def train(model, loader, criterion, warm):
            opt = torch.optim.SGD(model.parameters())
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x, y in loader:
                if warm:
                    sched.step()
                opt.zero_grad()
                criterion(model(x), y).backward()
                opt.step()
        """, None, None),
    ("DLX004", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            for x, y in loader:
                sched.step()
                if x is None:
                    continue
                opt.zero_grad()
                criterion(model(x), y).backward()
                opt.step()
        """, None, None),
    # DLX005: no second unscale_, and the step must surely follow the clip.
    ("DLX005", """
        import torch
        def train(model, opt, loader, criterion, flag):
            scaler = torch.amp.GradScaler()
            for x, y in loader:
                scaler.scale(criterion(model(x), y)).backward()
                if flag:
                    scaler.unscale_(opt)
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                scaler.step(opt)
                scaler.update()
        """, None, None),
    ("DLX005", """
        import torch
        def train(model, opt, loader, criterion):
            scaler = torch.amp.GradScaler()
            for x, y in loader:
                scaler.scale(criterion(model(x), y)).backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                if torch.isnan(x).any():
                    continue
                scaler.step(opt)
                scaler.update()
        """, None, None),
    # DLX006: the `total = total + loss` form, with an operand that needs parentheses.
    ("DLX006", """
        import torch
        from torch import nn
        def train(model, loader, optimizer):
            criterion = nn.MSELoss()
            total = 0.0
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                total = total + loss * 2
            print(total)
        """, """
        import torch
        from torch import nn
        def train(model, loader, optimizer):
            criterion = nn.MSELoss()
            total = 0.0
            for x, y in loader:
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                total = total + (loss * 2).detach()
            print(total)
        """, SAFE),
    # DLX007: each element of an extended list; a subscript assignment.
    ("DLX007", """
        import torch
        from torch import nn
        def train(model, loader, optimizer):
            criterion = nn.MSELoss()
            seen, last = [], {}
            for i, (x, y) in enumerate(loader):
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                seen.extend([loss, i])
                last[i] = loss
            print(seen, last)
        """, """
        import torch
        from torch import nn
        def train(model, loader, optimizer):
            criterion = nn.MSELoss()
            seen, last = [], {}
            for i, (x, y) in enumerate(loader):
                loss = criterion(model(x), y)
                loss.backward()
                optimizer.step()
                seen.extend([loss.detach(), i])
                last[i] = loss.detach()
            print(seen, last)
        """, SAFE),
    # DLX008: a model bound inside the evaluation function is set to eval where it exists.
    ("DLX008", """
        import torch
        def evaluate(loader):
            with torch.no_grad():
                model = torch.nn.Dropout(0.5)
                return [model(x) for x in loader]
        """, None, None),
    # DLX009: after a direct eval(), nothing that trains may follow in the same block.
    ("DLX009", """
        import torch
        def fit(model, loader, opt):
            for step, (x, y) in enumerate(loader):
                if step % 10 == 0:
                    model.eval()
                    with torch.no_grad():
                        model(x)
                    continue
                opt.zero_grad()
                model(x).sum().backward()
                opt.step()
        """, None, None),
    # DLX010: a validation loop at module level is wrapped; an async function is not decorated.
    ("DLX010", """
        import torch
        model = torch.nn.Linear(2, 2)
        model.eval()
        for batch in [torch.zeros(2)]:
            print(model(batch))
        """, """
        import torch
        model = torch.nn.Linear(2, 2)
        model.eval()
        with torch.no_grad():
            for batch in [torch.zeros(2)]:
                print(model(batch))
        """, UNSAFE),
    ("DLX010", """
        import torch
        async def predict(net: torch.nn.Module, batch):
            net.eval()
            return net(batch)
        """, """
        import torch
        async def predict(net: torch.nn.Module, batch):
            net.eval()
            with torch.no_grad():
                return net(batch)
        """, UNSAFE),
    # DLX011: an nn.Softmax attribute; an in-place sigmoid_ or rebound logits get no fix.
    ("DLX011", """
        import torch
        from torch import nn
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.softmax = nn.Softmax(dim=1)
                self.ce = nn.CrossEntropyLoss()
            def forward(self, x, y):
                return self.ce(self.softmax(self.fc(x)), y)
        """, """
        import torch
        from torch import nn
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 3)
                self.softmax = nn.Softmax(dim=1)
                self.ce = nn.CrossEntropyLoss()
            def forward(self, x, y):
                return self.ce(self.fc(x), y)
        """, SAFE),
    ("DLX011", """
        import torch
        import torch.nn.functional as F
        def loss(logits, y):
            probs = logits.sigmoid_()
            return F.binary_cross_entropy_with_logits(probs, y)
        """, None, None),
    ("DLX011", """
        import torch
        import torch.nn.functional as F
        def loss(logits, y, other):
            probs = F.softmax(logits, dim=-1)
            logits = other
            return F.cross_entropy(probs, y)
        """, None, None),
    # DLX013: log2 is not log_softmax; a softmax imported by name is respelled.
    ("DLX013", """
        import torch
        from torch.nn.functional import softmax
        def f(s):
            return torch.log(softmax(s, dim=-1)), torch.log2(softmax(s, dim=-1))
        """, """
        import torch
        from torch.nn.functional import softmax
        def f(s):
            return torch.nn.functional.log_softmax(s, dim=-1), torch.log2(softmax(s, dim=-1))
        """, SAFE),
    # DLX014: an in-place log_ and an argument with a call get no fix.
    ("DLX014", """
        import torch
        def f(x, model):
            x.log_()
            return torch.log(model(x))
        """, None, None),
    ("DLX014", """
        import torch
        import torch.nn.functional as F
        def f(z):
            return z.sigmoid().log()
        """, """
        import torch
        import torch.nn.functional as F
        def f(z):
            return F.logsigmoid(z)
        """, UNSAFE),
    # DLX016: `is not` on a tensor; a chained comparison gets no fix.
    ("DLX016", """
        import torch
        t = torch.ones(2)
        ok = t is not torch.nan
        """, """
        import torch
        t = torch.ones(2)
        ok = ~torch.isnan(t)
        """, SAFE),
    ("DLX016", """
        import torch
        t = torch.ones(2)
        ok = 0 < t == torch.nan
        """, None, None),
    # DLX019: a parenthesised receiver.
    ("DLX019", """
        import torch
        from torch import nn
        def run(model: nn.Module, x):
            return (model).forward(x, 1)
        """, """
        import torch
        from torch import nn
        def run(model: nn.Module, x):
            return (model)(x, 1)
        """, UNSAFE),
    # DLX020: an attribute receiver is unsafe; a variable of an enclosing scope gets no fix.
    ("DLX020", """
        import torch
        class Holder:
            def __init__(self):
                self.mask = torch.zeros(3)
                self.mask.cuda(); self.n = 1
        """, """
        import torch
        class Holder:
            def __init__(self):
                self.mask = torch.zeros(3)
                self.mask = self.mask.cuda(); self.n = 1
        """, UNSAFE),
    ("DLX020", """
        import torch
        mask = torch.zeros(3)
        def move():
            mask.cuda()
            return mask
        """, None, None),
    # DLX024: one argument per line keeps the layout; a static method has no `self`.
    ("DLX024", """
        import torch.nn.functional as F
        from torch import nn
        class Head(nn.Module):
            def forward(this, x):
                return F.dropout(
                    x,
                    p=0.5,
                )
        """, """
        import torch.nn.functional as F
        from torch import nn
        class Head(nn.Module):
            def forward(this, x):
                return F.dropout(
                    x,
                    p=0.5,
                    training=this.training,
                )
        """, SAFE),
    ("DLX024", """
        import torch.nn.functional as F
        from torch import nn
        class Head(nn.Module):
            @staticmethod
            def noise(x):
                return F.dropout(x, 0.5)
        """, None, None),
    # DLX025: a custom pickle module: the user must choose.
    ("DLX025", """
        import pickle
        import torch
        state = torch.load("p", pickle_module=pickle)
        """, None, None),
    # DLX013: an nn.Softmax module attribute has no `log_softmax` method to switch to.
    ("DLX013", """
        import torch
        from torch import nn
        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.softmax = nn.Softmax(dim=1)
            def forward(self, x):
                return torch.log(self.softmax(x))
        """, None, None),
    # DLX002: the call moves above the first statement's own comments; a second clear of the
    # same optimizer before the backward makes the extra call simply go.
    ("DLX002", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                # forward
                loss = criterion(model(x), y)
                with torch.autocast("cpu"):
                    loss.backward()
                # clear
                model.zero_grad(set_to_none=True)  # here
                opt.step()
        """, """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                # clear
                model.zero_grad(set_to_none=True)  # here
                # forward
                loss = criterion(model(x), y)
                with torch.autocast("cpu"):
                    loss.backward()
                opt.step()
        """, UNSAFE),
    ("DLX002", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                opt.zero_grad()
                criterion(model(x), y).backward()
                opt.zero_grad()
                opt.step()
        """, """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                opt.zero_grad()
                criterion(model(x), y).backward()
                opt.step()
        """, UNSAFE),
    # A logging branch before it does not matter ...
    ("DLX002", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for step, (x, y) in enumerate(loader):
                loss = criterion(model(x), y)
                loss.backward()
                if step % 50 == 0:
                    print(step, loss.item())
                opt.zero_grad()
                opt.step()
        """, """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for step, (x, y) in enumerate(loader):
                opt.zero_grad()
                loss = criterion(model(x), y)
                loss.backward()
                if step % 50 == 0:
                    print(step, loss.item())
                opt.step()
        """, UNSAFE),
    # ... but not with two backwards (a GAN), an early `continue` before it, or an optimizer
    # built in the loop.
    ("DLX002", """
        import torch
        def train(gen, disc, loader, loss_fn):
            opt_g = torch.optim.Adam(gen.parameters())
            opt_d = torch.optim.Adam(disc.parameters())
            for real in loader:
                loss_fn(disc(real)).backward()
                opt_d.step()
                loss_fn(disc(gen(real))).backward()
                opt_g.zero_grad()
                opt_g.step()
        """, None, None),
    ("DLX002", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                if x is None:
                    continue
                criterion(model(x), y).backward()
                opt.zero_grad()
                opt.step()
        """, None, None),
    ("DLX002", """
        import torch
        def train(model, loader, criterion):
            for x, y in loader:
                opt = torch.optim.SGD(model.parameters())
                criterion(model(x), y).backward()
                opt.zero_grad()
                opt.step()
        """, None, None),
    # DLX003: the step goes after the `with` block holding the backward; a scaler step (its
    # update must move too) and a step sharing its line are left alone.
    ("DLX003", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                opt.step()
                loss = criterion(model(x), y)
                with torch.autocast("cpu"):
                    loss.backward()
                opt.zero_grad()
        """, """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                loss = criterion(model(x), y)
                with torch.autocast("cpu"):
                    loss.backward()
                opt.step()
                opt.zero_grad()
        """, UNSAFE),
    ("DLX003", """
        import torch
        def train(model, loader, criterion, scaler):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                scaler.step(opt)
                scaler.update()
                opt.zero_grad()
                scaler.scale(criterion(model(x), y)).backward()
        """, None, None),
    ("DLX003", """
        import torch
        def train(model, loader, criterion):
            opt = torch.optim.SGD(model.parameters())
            for x, y in loader:
                opt.step(); opt.zero_grad()
                criterion(model(x), y).backward()
        """, None, None),
    # DLX012: a criterion attribute built in __init__ (used once) switches with the argument.
    ("DLX012", """
        import torch
        from torch import nn
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 1)
                self.criterion = nn.BCELoss(reduction="sum")
            def forward(self, x, y):
                return self.criterion(torch.sigmoid(self.fc(x)).squeeze(1), y)
        """, """
        import torch
        from torch import nn
        class Model(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 1)
                self.criterion = nn.BCEWithLogitsLoss(reduction="sum")
            def forward(self, x, y):
                return self.criterion(self.fc(x).squeeze(1), y)
        """, UNSAFE),
    ("DLX012", """
        import torch
        from torch.nn.functional import binary_cross_entropy
        def step(logits, y):
            return binary_cross_entropy(torch.sigmoid(logits), y)
        """, """
        import torch
        from torch.nn.functional import binary_cross_entropy
        def step(logits, y):
            return torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        """, UNSAFE),
    # ... not when the criterion serves another call, the logits were rebound, or the sigmoid
    # is a model's own output.
    ("DLX012", """
        import torch
        from torch import nn
        def step(logits, y, other):
            criterion = nn.BCELoss()
            a = criterion(torch.sigmoid(logits), y)
            b = criterion(other, y)
            return a + b
        """, None, None),
    ("DLX012", """
        import torch
        import torch.nn.functional as F
        def step(logits, y, z):
            probs = torch.sigmoid(logits)
            logits = z
            return F.binary_cross_entropy(probs, y)
        """, None, None),
    ("DLX012", """
        import torch
        import torch.nn.functional as F
        from torch import nn
        class Net(nn.Module):
            def forward(self, x):
                return torch.sigmoid(x)
        def step(net: Net, x, y):
            return F.binary_cross_entropy(net(x), y)
        """, None, None),
    # DLX015: raw scores with only `import torch` get the full name; a softmax under a shape
    # operation is switched in place; a softmax variable, a sigmoid and an nn.Softmax get none.
    ("DLX015", """
        import torch
        from torch.nn import Linear, NLLLoss
        def step(x, y):
            head = Linear(8, 3)
            criterion = NLLLoss()
            return criterion(head(x), y)
        """, """
        import torch
        from torch.nn import Linear, NLLLoss
        def step(x, y):
            head = Linear(8, 3)
            criterion = NLLLoss()
            return criterion(torch.nn.functional.log_softmax(head(x), dim=1), y)
        """, UNSAFE),
    ("DLX015", """
        import torch
        import torch.nn.functional as F
        def step(logits, y):
            return F.nll_loss(torch.softmax(logits, 1).view(-1, 3), y)
        """, """
        import torch
        import torch.nn.functional as F
        def step(logits, y):
            return F.nll_loss(torch.log_softmax(logits, 1).view(-1, 3), y)
        """, UNSAFE),
    ("DLX015", """
        import torch
        import torch.nn.functional as F
        def step(logits, y):
            probs = F.softmax(logits, dim=1)
            return F.nll_loss(probs, y) + F.nll_loss(torch.sigmoid(logits), y)
        """, None, None),
    ("DLX015", """
        import torch
        import torch.nn.functional as F
        from torch import nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.softmax = nn.Softmax(dim=1)
            def forward(self, x, y):
                return F.nll_loss(self.softmax(x), y)
        """, None, None),
    # DLX017: `from torch import log` is respelled; other arguments and parentheses.
    ("DLX017", """
        import torch
        from torch import log
        def f(x, buf):
            return log(x * 2 + 1), torch.log(1 + (x - 1), out=buf)
        """, """
        import torch
        from torch import log
        def f(x, buf):
            return torch.log1p(x * 2), torch.log1p(x - 1, out=buf)
        """, SAFE),
    # DLX018: tuples (as lists), a generator, a dict comprehension with f-string keys, `+=`
    # and `self.a = self.a + [...]`, an alias of torch.nn, and a file importing classes from torch.nn.
    ("DLX018", """
        import torch
        import torch.nn as tnn
        class Net(tnn.Module):
            def __init__(self):
                super().__init__()
                self.pair = (tnn.Linear(2, 2), tnn.ReLU())
                self.bare = tnn.Linear(2, 2), tnn.ReLU()
                self.lazy = (tnn.Linear(2, 2) for _ in range(2))
                self.named = {f"l{i}": tnn.Linear(2, 2) for i in range(2)}
                self.stack = []
                self.stack += [tnn.Linear(2, 2)]
                self.stack = self.stack + [tnn.Linear(2, 2)]
        """, """
        import torch
        import torch.nn as tnn
        class Net(tnn.Module):
            def __init__(self):
                super().__init__()
                self.pair = tnn.ModuleList([tnn.Linear(2, 2), tnn.ReLU()])
                self.bare = tnn.ModuleList([tnn.Linear(2, 2), tnn.ReLU()])
                self.lazy = tnn.ModuleList(tnn.Linear(2, 2) for _ in range(2))
                self.named = tnn.ModuleDict({f"l{i}": tnn.Linear(2, 2) for i in range(2)})
                self.stack = tnn.ModuleList()
                self.stack += [tnn.Linear(2, 2)]
                self.stack = self.stack + [tnn.Linear(2, 2)]
        """, UNSAFE),
    ("DLX018", """
        import torch
        from torch.nn import Module, Linear
        class Net(Module):
            def __init__(self):
                super().__init__()
                self.layers = [Linear(2, 2), Linear(2, 2)]
        """, """
        import torch
        from torch.nn import Module, Linear
        class Net(Module):
            def __init__(self):
                super().__init__()
                self.layers = torch.nn.ModuleList([Linear(2, 2), Linear(2, 2)])
        """, UNSAFE),
    # ... not for unknown elements, non-string or dotted keys, sets, mixed kinds, a list that
    # also receives something else, or an empty dict filled by key.
    ("DLX018", """
        import torch
        from torch import nn
        class Net(nn.Module):
            def __init__(self, enc):
                super().__init__()
                self.mixed = [nn.Linear(2, 2), enc]
                self.numbered = {0: nn.Linear(2, 2)}
                self.dotted = {"a.b": nn.Linear(2, 2)}
                self.bag = {nn.Linear(2, 2), nn.Linear(2, 2)}
                self.both = [nn.Linear(2, 2), nn.Parameter(torch.ones(1))]
                self.extra = []
                self.extra.append(nn.Linear(2, 2))
                self.extra.append(enc)
                self.keyed = {}
                self.keyed["a"] = nn.Linear(2, 2)
        """, None, None),
    # DLX021: several targets and an augmented assignment; not when the file reads the
    # attribute (that object may really have it).
    ("DLX021", """
        import torch
        def freeze(model, q, flag):
            for p in model.parameters():
                p.require_grad = q.require_grad = False
                p.require_grad |= flag
        """, """
        import torch
        def freeze(model, q, flag):
            for p in model.parameters():
                p.requires_grad = q.requires_grad = False
                p.requires_grad |= flag
        """, SAFE),
    ("DLX021", """
        import torch
        def freeze(model):
            for p in model.parameters():
                if not p.require_grad:
                    p.require_grad = True
        """, None, None),
    # DLX022: (a) after a CUDA-only `if`; not for a seed that is drawn at random.
    ("DLX022", """
        import random
        import numpy as np
        import torch
        def set_seed(cfg):
            random.seed(cfg["seed"])
            np.random.seed(cfg["seed"])
            if torch.cuda.is_available():
                torch.cuda.manual_seed_all(cfg["seed"])
        """, """
        import random
        import numpy as np
        import torch
        def set_seed(cfg):
            random.seed(cfg["seed"])
            np.random.seed(cfg["seed"])
            if torch.cuda.is_available():
                torch.cuda.manual_seed_all(cfg["seed"])
            torch.manual_seed(cfg["seed"])
        """, UNSAFE),
    ("DLX022", """
        import random
        import torch
        def set_seed():
            torch.cuda.manual_seed(random.randint(0, 100))
        """, None, None),
    # (b) `args.seed` right after the guard parses the arguments, Python and NumPy seeded
    # too because the file imports them; a module-level `seed` constant at the top.
    ("DLX022", """
        import argparse
        import random
        import numpy as np
        import torch
        from torch import nn
        parser = argparse.ArgumentParser()
        parser.add_argument("--seed", type=int, default=1)
        def main(args):
            return nn.Linear(4, 2)
        if __name__ == "__main__":
            args = parser.parse_args()
            main(args)
        """, """
        import argparse
        import random
        import numpy as np
        import torch
        from torch import nn
        parser = argparse.ArgumentParser()
        parser.add_argument("--seed", type=int, default=1)
        def main(args):
            return nn.Linear(4, 2)
        if __name__ == "__main__":
            args = parser.parse_args()
            random.seed(args.seed)
            np.random.seed(args.seed)
            torch.manual_seed(args.seed)
            main(args)
        """, UNSAFE),
    ("DLX022", """
        import torch
        from torch import nn
        seed = 7
        if __name__ == "__main__":
            # build
            model = nn.Linear(4, 2)
        """, """
        import torch
        from torch import nn
        seed = 7
        if __name__ == "__main__":
            torch.manual_seed(seed)
            # build
            model = nn.Linear(4, 2)
        """, UNSAFE),
    # DLX026: an existing __init__ gets the attribute (a name not yet used by the class), a
    # bound constructor is replaced where it is bound, identical constructors share one
    # attribute; a class body with a docstring gets a new __init__ before forward.
    ("DLX026", """
        import torch
        from torch import nn
        class Block(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.dropout = nn.Linear(d, d)
                if d > 4:
                    self.extra = nn.Identity()

            def forward(self, x):
                drop = nn.Dropout2d(p=0.1)
                x = drop(self.dropout(x))
                return nn.Dropout(0.2, inplace=False)(x) + nn.Dropout(0.2, inplace=False)(x)
        """, """
        import torch
        from torch import nn
        class Block(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.dropout = nn.Linear(d, d)
                if d > 4:
                    self.extra = nn.Identity()
                self.dropout2d = nn.Dropout2d(p=0.1)
                self.dropout_1 = nn.Dropout(0.2, inplace=False)

            def forward(self, x):
                drop = self.dropout2d
                x = drop(self.dropout(x))
                return self.dropout_1(x) + self.dropout_1(x)
        """, UNSAFE),
    ("DLX026", """
        import torch
        from torch import nn
        class Block(nn.Module):
            \"\"\"A block.\"\"\"

            scale = 2

            def forward(self, x):
                return nn.AlphaDropout(0.5)(x) * self.scale
        """, """
        import torch
        from torch import nn
        class Block(nn.Module):
            \"\"\"A block.\"\"\"

            scale = 2

            def __init__(self):
                super().__init__()
                self.alpha_dropout = nn.AlphaDropout(0.5)

            def forward(self, x):
                return self.alpha_dropout(x) * self.scale
        """, UNSAFE),
    # ... not for arguments computed at run time, a base class whose __init__ takes arguments,
    # or a constructor with a chained call.
    ("DLX026", """
        import torch
        from torch import nn
        class Block(nn.Module):
            def __init__(self, p):
                super().__init__()
                self.p = p
            def forward(self, x):
                return nn.Dropout(self.p)(x)
        """, None, None),
    ("DLX026", """
        import torch
        from torch import nn
        class Base(nn.Module):
            def __init__(self, d):
                super().__init__()
        class Block(Base):
            def forward(self, x):
                return nn.Dropout(0.5)(x)
        """, None, None),
    ("DLX026", """
        import torch
        from torch import nn
        class Block(nn.Module):
            def forward(self, x):
                return nn.Dropout(0.5).train()(x)
        """, None, None),
    # DLX027: above the first statement's comments, torch spelled through its alias.
    ("DLX027", """
        import torch as T
        def train(model, opt):
            model(T.ones(2)).sum().backward()
            opt.step()
        if __name__ == "__main__":
            # go
            train(T.nn.Linear(2, 1), None)
        """, """
        import torch as T
        def train(model, opt):
            model(T.ones(2)).sum().backward()
            opt.step()
        if __name__ == "__main__":
            T.use_deterministic_algorithms(True)
            # go
            train(T.nn.Linear(2, 1), None)
        """, UNSAFE),
    # DLX028: `from torch.optim import Adam`; not with **kwargs or decoupled_weight_decay=.
    ("DLX028", """
        import torch
        from torch.optim import Adam
        def build(model):
            return Adam(model.parameters(), weight_decay=0.1)
        """, """
        import torch
        from torch.optim import Adam
        def build(model):
            return torch.optim.AdamW(model.parameters(), weight_decay=0.1)
        """, UNSAFE),
    ("DLX028", """
        import torch
        def build(model, kw):
            b = torch.optim.Adam(model.parameters(), weight_decay=0.1, **kw)
            c = torch.optim.Adam(model.parameters(), weight_decay=0.1, decoupled_weight_decay=True)
            return b, c
        """, None, None),
    # DLX030: an alias, a name import, a parenthesised difference; not with `out=`.
    ("DLX030", """
        import torch as T
        from torch import exp
        def f(x):
            return (T.exp(x) - 1.0) * 2, exp(x) - 1
        """, """
        import torch as T
        from torch import exp
        def f(x):
            return T.expm1(x) * 2, T.expm1(x)
        """, SAFE),
    ("DLX030", """
        import torch
        def f(x, buf):
            return torch.exp(x, out=buf) - 1
        """, None, None),
    # DLX031: keepdim and a tuple of dims carried over; not with dtype= or out=.
    ("DLX031", """
        import torch
        def f(x):
            a = torch.log(torch.sum(torch.exp(x), -1, keepdim=True))
            b = torch.log((x - 1).exp().sum(dim=(1, 2)))
            return a, b
        """, """
        import torch
        def f(x):
            a = torch.logsumexp(x, -1, keepdim=True)
            b = torch.logsumexp(x - 1, dim=(1, 2))
            return a, b
        """, SAFE),
    ("DLX031", """
        import torch
        def f(x, buf):
            c = torch.log(torch.sum(torch.exp(x), dim=1, dtype=torch.float64))
            d = torch.log(torch.exp(x).sum(1), out=buf)
            return c, d
        """, None, None),
    # DLX033: a positional `True`, an explicit keyword, one argument per line; not a variable.
    ("DLX033", """
        import torch.nn as nn
        a = nn.Sequential(nn.Linear(4, 4, True), nn.BatchNorm1d(4))
        b = nn.Sequential(nn.Conv2d(3, 8, 3, bias=True), nn.BatchNorm2d(8))
        d = nn.Sequential(
            nn.Conv1d(
                3,
                8,
                1,
            ),
            nn.BatchNorm1d(8),
        )
        """, """
        import torch.nn as nn
        a = nn.Sequential(nn.Linear(4, 4, False), nn.BatchNorm1d(4))
        b = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8))
        d = nn.Sequential(
            nn.Conv1d(
                3,
                8,
                1,
                bias=False,
            ),
            nn.BatchNorm1d(8),
        )
        """, UNSAFE),
    ("DLX033", """
        import torch.nn as nn
        use_bias = True
        c = nn.Sequential(nn.Conv2d(3, 8, 3, bias=use_bias), nn.BatchNorm2d(8))
        """, None, None),
    # DLX104: `device=` keyword and a device string; random factories and requires_grad are
    # unsafe; other arguments of the move, `out=` and `.cuda(1)` get no fix.
    ("DLX104", """
        import torch
        def f(n, device):
            e = torch.arange(n).to(device=device)
            h = torch.tensor([1, 2], dtype=torch.long).to("cuda:0")
            return e, h
        """, """
        import torch
        def f(n, device):
            e = torch.arange(n, device=device)
            h = torch.tensor([1, 2], dtype=torch.long, device="cuda:0")
            return e, h
        """, SAFE),
    ("DLX104", """
        import torch
        def f(n, device):
            a = torch.randn(n).to(device)
            b = torch.zeros(n, requires_grad=True).cuda()
            return a, b
        """, """
        import torch
        def f(n, device):
            a = torch.randn(n, device=device)
            b = torch.zeros(n, requires_grad=True, device="cuda")
            return a, b
        """, UNSAFE),
    # A call spanning lines without a trailing comma: the keyword joins the last argument's line.
    ("DLX104", """
        import torch
        def f(batch_size, tok, device):
            return torch.tensor(
                [[tok]] * batch_size, dtype=torch.int
            ).to(device)
        """, """
        import torch
        def f(batch_size, tok, device):
            return torch.tensor(
                [[tok]] * batch_size, dtype=torch.int, device=device
            )
        """, SAFE),
    ("DLX025", """
        import torch
        state = torch.load(
            "p", map_location="cpu"
        )
        """, """
        import torch
        state = torch.load(
            "p", map_location="cpu", weights_only=True
        )
        """, UNSAFE),
    ("DLX104", """
        import torch
        def f(n, device, buf):
            c = torch.zeros(n).to(device, non_blocking=True)
            d = torch.zeros(n, out=buf).to(device)
            g = torch.ones(n).cuda(1)
            return c, d, g
        """, None, None),
    # DLX301: renames and device-first rewrites keep the user's spelling of torch.
    ("DLX301", """
        import torch as T
        def run(model, x, a, b):
            with T.cuda.amp.autocast(enabled=False):
                y = model(x)
            return y, T.ger(a, b), T.nn.functional.upsample(x, scale_factor=2)
        """, """
        import torch as T
        def run(model, x, a, b):
            with T.amp.autocast("cuda", enabled=False):
                y = model(x)
            return y, T.outer(a, b), T.nn.functional.interpolate(x, scale_factor=2)
        """, SAFE),
    # A module imported from the deprecated location: `import torch` is added.
    ("DLX301", """
        from torch.cuda import amp
        def make(use_amp):
            return amp.GradScaler(2.0**16, enabled=use_amp)
        """, """
        from torch.cuda import amp
        import torch
        def make(use_amp):
            return torch.amp.GradScaler("cuda", 2.0**16, enabled=use_amp)
        """, SAFE),
    ("DLX301", """
        import torch.cuda.amp as amp
        def run(model, x, cfg):
            with amp.autocast(**cfg):
                return model(x)
        """, """
        import torch.cuda.amp as amp
        import torch
        def run(model, x, cfg):
            with torch.amp.autocast("cuda", **cfg):
                return model(x)
        """, SAFE),
    # A name imported inside a function (a lazy import): `import torch` goes right after that
    # import, in the function, not at module level.
    ("DLX301", """
        \"\"\"Training helpers.\"\"\"


        def make():
            from torch.cuda.amp import GradScaler
            return GradScaler()
        """, """
        \"\"\"Training helpers.\"\"\"


        def make():
            from torch.cuda.amp import GradScaler
            import torch
            return torch.amp.GradScaler("cuda")
        """, SAFE),
    # A call written one argument per line; the CPU twins.
    ("DLX301", """
        import torch
        scaler = torch.cuda.amp.GradScaler(
            init_scale=1024.0,
            growth_interval=100,
        )
        cpu = torch.cpu.amp.GradScaler()
        with torch.cpu.amp.autocast(dtype=torch.bfloat16):
            pass
        """, """
        import torch
        scaler = torch.amp.GradScaler(
            "cuda", init_scale=1024.0,
            growth_interval=100,
        )
        cpu = torch.amp.GradScaler("cpu")
        with torch.amp.autocast("cpu", dtype=torch.bfloat16):
            pass
        """, SAFE),
    # custom_fwd / custom_bwd: a bare decorator becomes a call with device_type.
    ("DLX301", """
        import torch
        from torch.cuda import amp
        class Op(torch.autograd.Function):
            @staticmethod
            @amp.custom_fwd(cast_inputs=torch.float32)
            def forward(ctx, x):
                return x
            @staticmethod
            @torch.cuda.amp.custom_bwd
            def backward(ctx, g):
                return g
        """, """
        import torch
        from torch.cuda import amp
        class Op(torch.autograd.Function):
            @staticmethod
            @torch.amp.custom_fwd(cast_inputs=torch.float32, device_type="cuda")
            def forward(ctx, x):
                return x
            @staticmethod
            @torch.amp.custom_bwd(device_type="cuda")
            def backward(ctx, g):
                return g
        """, SAFE),
    # A `# noqa: DLX301` line is left as it is; the other use is fixed.
    ("DLX301", """
        import torch
        def outer(a, b):
            keep = torch.ger(a, b)  # noqa: DLX301
            return keep, torch.ger(a, b)
        """, """
        import torch
        def outer(a, b):
            keep = torch.ger(a, b)  # noqa: DLX301
            return keep, torch.outer(a, b)
        """, SAFE),
    # A name from a `from` import that DLX303 cannot rewrite (one name is not a rename):
    # each use gets the full replacement; the import stays for DLX303 to report.
    ("DLX301", """
        from functorch import vmap, make_functional
        def batched(f, xs):
            return vmap(f)(xs)
        """, """
        from functorch import vmap, make_functional
        import torch
        def batched(f, xs):
            return torch.func.vmap(f)(xs)
        """, SAFE),
    ("DLX301", """
        import torch
        from torch.cuda.amp import autocast
        def run(model, x):
            with autocast(enabled=True):
                return model(x)
        """, """
        import torch
        from torch.cuda.amp import autocast
        def run(model, x):
            with torch.amp.autocast("cuda", enabled=True):
                return model(x)
        """, SAFE),
    # Renames whose keyword or positional arguments differ in the replacement: only calls
    # that pass none of them.
    ("DLX301", """
        import torch
        import torch.utils._pytree as pytree
        def call(m, p, x):
            pytree._register_pytree_node(Box, flatten, unflatten)
            return torch.nn.utils.stateless.functional_call(m, p, (x,))
        """, """
        import torch
        import torch.utils._pytree as pytree
        def call(m, p, x):
            pytree.register_pytree_node(Box, flatten, unflatten)
            return torch.func.functional_call(m, p, (x,))
        """, SAFE),
    # No fix: a positional autocast argument (the order differs), `*args`/`**kwargs` where
    # they matter, a reference that is not a call, computed torch.range bounds, a name that
    # DLX303's import fix renames.
    ("DLX301", """
        import torch
        import torch.utils._pytree as pytree
        from functorch import vmap
        def run(model, x, n, p, args, kw):
            with torch.cuda.amp.autocast(True):
                pass
            with torch.cuda.amp.autocast(*args):
                pass
            pytree._register_pytree_node(Box, flatten, unflatten, to_str)
            pytree._register_pytree_node(*args)
            torch.nn.utils.stateless.functional_call(model, parameters_and_buffers=p)
            torch.nn.utils.stateless.functional_call(model, **kw)
            cls = torch.cuda.amp.GradScaler
            helper = torch.cuda.amp.custom_fwd
            r = torch.range(0, n), torch.range(3, 0), torch.range(0, 3, out=x)
            q = torch.qr(x, some=n), torch.qr(input=x), torch.cholesky(x, upper=n)
            return vmap(model)(x), torch.svd(x), torch.norm(x)
        """, None, None),
    # Unsafe: torch.range with integer literals, torch.qr and torch.cholesky.
    ("DLX301", """
        import torch
        def f(a):
            r = torch.range(0, 3), torch.range(1, 10, 3), torch.range(-2, 5, step=2)
            i = torch.range(0, 3, dtype=torch.int64, device="cpu")
            q = torch.qr(a), torch.qr(a, some=False), torch.qr(a, True)
            c = torch.cholesky(a), torch.cholesky(a, upper=True), torch.cholesky(a, False)
            return r, i, q, c
        """, """
        import torch
        def f(a):
            r = torch.arange(0.0, 4.0), torch.arange(1.0, 13.0, 3.0), torch.arange(-2.0, 6.0, step=2.0)
            i = torch.arange(0, 4, dtype=torch.int64, device="cpu")
            q = torch.linalg.qr(a), torch.linalg.qr(a, mode="complete"), torch.linalg.qr(a)
            c = torch.linalg.cholesky(a), torch.linalg.cholesky(a).mH, torch.linalg.cholesky(a)
            return r, i, q, c
        """, UNSAFE),
    # Comments inside a multi-line call are kept by every kind of fix: a flag that goes away
    # leaves its comment on a line of its own; a replaced flag keeps its comment.
    ("DLX301", """
        import torch
        q = torch.qr(
            a,  # matrix
            some=False,  # full
        )
        q = torch.qr(a,  # matrix
                     some=True)
        q = torch.qr(
            a,  # matrix
            some=True,  # reduced
        )
        c = torch.cholesky(
            a,  # matrix
            upper=True,  # upper
        )
        c = torch.cholesky(a,  # matrix
                           False)
        r = torch.range(
            0,  # start
            3,  # end
        )
        """, """
        import torch
        q = torch.linalg.qr(
            a,  # matrix
            mode="complete",  # full
        )
        q = torch.linalg.qr(a,  # matrix
                     )
        q = torch.linalg.qr(
            a,  # matrix
            # reduced
        )
        c = torch.linalg.cholesky(
            a,  # matrix
            # upper
        ).mH
        c = torch.linalg.cholesky(a,  # matrix
                           )
        r = torch.arange(
            0.0,  # start
            4.0,  # end
        )
        """, UNSAFE),
    ("DLX301", """
        import torch
        from torch.cuda import amp
        scaler = torch.cuda.amp.GradScaler(
            init_scale=1024.0,  # scale
            growth_interval=100,  # interval
        )
        class Op(torch.autograd.Function):
            @staticmethod
            @amp.custom_fwd(
                cast_inputs=torch.float32,  # inputs in fp32
            )
            def forward(ctx, x):
                return x
        """, """
        import torch
        from torch.cuda import amp
        scaler = torch.amp.GradScaler(
            "cuda", init_scale=1024.0,  # scale
            growth_interval=100,  # interval
        )
        class Op(torch.autograd.Function):
            @staticmethod
            @torch.amp.custom_fwd(
                cast_inputs=torch.float32,  # inputs in fp32
                device_type="cuda",
            )
            def forward(ctx, x):
                return x
        """, SAFE),
    # DLX303: a `from` import whose names are all renames into one module, aliases kept.
    ("DLX303", """
        from functorch import vmap, grad as g
        def per_sample(f, xs):
            return vmap(g(f))(xs)
        """, """
        from torch.func import vmap, grad as g
        def per_sample(f, xs):
            return vmap(g(f))(xs)
        """, SAFE),
    ("DLX303", """
        from functorch import (
            jacrev,
            hessian,  # second order
        )
        """, """
        from torch.func import (
            jacrev,
            hessian,  # second order
        )
        """, SAFE),
    # No fix: a name that is not a rename, one that is not deprecated, a rename whose
    # keywords differ, a rename to another name (DLX301 then rewrites the uses), a module.
    ("DLX303", """
        from functorch import vmap, make_functional
        from torch.nn.functional import upsample as up
        from functorch import vmap as v, make_fx
        from torch.cuda.amp import autocast
        from torch.nn.utils.stateless import functional_call
        import torchvision.transforms.functional_tensor as F_t
        """, None, None),
]


@pytest.mark.parametrize("code,source,expected,applicability", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fix(code, source, expected, applicability):
    check_fix_case(code, source, expected, applicability)
