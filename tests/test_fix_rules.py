"""Per-rule fix behaviour beyond the bad examples: the shapes each fix handles, and the shapes
where it must not be offered (the finding stays, without a fix)."""

from __future__ import annotations

import textwrap

import pytest

from dlx_lint import Settings, lint_source
from dlx_lint.diagnostics import Applicability
from dlx_lint.fixer import fix_source, parses

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
]


@pytest.mark.parametrize("code,source,expected,applicability", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_fix(code, source, expected, applicability):
    source = textwrap.dedent(source).lstrip("\n")
    settings = Settings(select=(code,))
    found = lint_source("t.py", source, settings, raise_errors=True)
    assert found, f"{code} must fire on this input"
    result = fix_source("t.py", source, settings, unsafe=True)
    if expected is None:
        assert all(d.fix is None for d in found), "no fix may be offered here"
        assert result.text == source
        return
    expected = textwrap.dedent(expected).lstrip("\n")
    assert {d.fix.applicability for d in found if d.fix is not None} == {applicability}
    assert result.text == expected
    assert parses(result.text)
    unfixed = [d for d in found if d.fix is None or d.fix.applicability is DISPLAY]
    assert len([d for d in lint_source("t.py", result.text, settings) if d.code == code]) == len(unfixed)
    assert fix_source("t.py", result.text, settings, unsafe=True).text == result.text
