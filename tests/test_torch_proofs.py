"""Proof on real torch: for each rule whose harm shows on a CPU within a second, the same code
is (1) linted — the bad version triggers the rule, the good version does not — and (2) run with
tiny tensors, and the difference the rule's explanation claims is asserted.

Each proof defines a `run()` function in both versions (or, for a `script` proof, runs as a
script twice); the test executes it and compares the observables. Rules whose claim cannot be
shown this way say why in their `no_torch_proof` attribute (checked at the end of this module).

For a rule that offers a fix, the claim is also checked on the text the fix produces from the bad
version (`dlx_lint.fix_source` with unsafe fixes, the rule alone): the fixed text must no longer
trigger the rule, and the claim must hold for (bad, fixed) as it does for (bad, good). The
hand-written good versions stay: they show the claim independently of the fix. A proof whose bad
code the fix does not apply to says why (`no_fix`), and the test is skipped with that reason.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from typing import Callable

import pytest

from dlx_lint import Settings, fix_source, lint_source
from dlx_lint.registry import all_rules
from dlx_lint.rule import FixAvailability

torch = pytest.importorskip("torch")


@dataclass(frozen=True)
class Proof:
    """One demonstration.

    Attributes:
        code: the rule.
        bad, good: the two versions (the bad one triggers the rule, the good one does not).
        claim: (bad result, good-or-fixed result) -> asserts.
        name: the test id (the code when empty; several proofs of one rule need names).
        script: run the text as a script (``__name__ == "__main__"``) twice, each time from a
            different random state, as two processes would; the result is the list of values
            passed to `observe`.
        no_fix: why the rule's fix does not apply to `bad` (the fixed-text test is skipped
            with this reason, after checking that the fix indeed leaves `bad` unchanged).
    """

    code: str
    bad: str
    good: str
    claim: Callable[[object, object], None]
    name: str = ""
    script: bool = False
    no_fix: str = ""

    @property
    def id(self) -> str:
        return self.name or self.code


def _execute(source: str, script: bool = False):
    observed: list = []
    code = compile(textwrap.dedent(source), "<proof>", "exec")
    if script:
        for state in (1, 2):
            torch.manual_seed(state)
            exec(code, {"__name__": "__main__", "observe": observed.append})
        return observed
    # `observe(x)` lets a proof hand a value to the test without returning it from the code
    # under lint (a returned accumulator is exempt from DLX006/DLX007 by design).
    namespace: dict = {"__name__": "proof", "observe": observed.append}
    exec(code, namespace)
    torch.manual_seed(0)
    result = namespace["run"]()
    return observed[0] if observed else result


def _has_graph(value) -> bool:
    """Whether a value keeps an autograd graph alive (a float or a detached tensor does not)."""
    return isinstance(value, torch.Tensor) and (value.requires_grad or value.grad_fn is not None)


PROOFS: list[Proof] = []


def proof(code: str, bad: str, good: str, *, name: str = "", script: bool = False, no_fix: str = ""):
    def register(claim):
        PROOFS.append(Proof(code, bad, good, claim, name, script, no_fix))
        return claim
    return register


# ------------------------------------------------------------------------------------ training loop


@proof(
    "DLX001",
    bad="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1, bias=False)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        x = torch.ones(1, 2)
        grads = []
        for _ in range(3):
            model(x).sum().backward()
            grads.append(model.weight.grad.clone())
            optimizer.step()
        return grads
    """,
    good="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1, bias=False)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
        x = torch.ones(1, 2)
        grads = []
        for _ in range(3):
            optimizer.zero_grad()
            model(x).sum().backward()
            grads.append(model.weight.grad.clone())
            optimizer.step()
        return grads
    """,
)
def _gradients_accumulate(bad, good):
    assert torch.equal(bad[1], 2 * bad[0]) and torch.equal(bad[2], 3 * bad[0])  # running sum
    assert all(torch.equal(g, good[0]) for g in good)  # the same gradient every step


@proof(
    "DLX002",
    bad="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        before = model.weight.detach().clone()
        for _ in range(3):
            model(torch.ones(4, 2)).pow(2).sum().backward()
            optimizer.zero_grad()
            optimizer.step()
        return before, model.weight.detach()
    """,
    good="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        before = model.weight.detach().clone()
        for _ in range(3):
            optimizer.zero_grad()
            model(torch.ones(4, 2)).pow(2).sum().backward()
            optimizer.step()
        return before, model.weight.detach()
    """,
)
def _step_sees_zero_gradients(bad, good):
    assert torch.equal(bad[0], bad[1])  # never moved
    assert not torch.equal(good[0], good[1])


@proof(
    "DLX003",
    bad="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        weights = [model.weight.detach().clone()]
        for _ in range(2):
            optimizer.step()
            optimizer.zero_grad()
            model(torch.ones(4, 2)).pow(2).sum().backward()
            weights.append(model.weight.detach().clone())
        return weights
    """,
    good="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        weights = [model.weight.detach().clone()]
        for _ in range(2):
            optimizer.zero_grad()
            model(torch.ones(4, 2)).pow(2).sum().backward()
            optimizer.step()
            weights.append(model.weight.detach().clone())
        return weights
    """,
)
def _one_step_lag(bad, good):
    assert torch.equal(bad[0], bad[1])  # the first iteration's step had no gradient
    assert not torch.equal(good[0], good[1])
    assert torch.allclose(bad[2], good[1])  # the bad loop lags one step behind


@proof(
    "DLX004",
    bad="""
    import warnings
    import torch
    def run():
        model = torch.nn.Linear(1, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        used = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(2):
                scheduler.step()
                used.append(optimizer.param_groups[0]["lr"])
                model(torch.ones(1, 1)).sum().backward()
                optimizer.step()
                optimizer.zero_grad()
        return used
    """,
    good="""
    import torch
    def run():
        model = torch.nn.Linear(1, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
        used = []
        for _ in range(2):
            used.append(optimizer.param_groups[0]["lr"])
            model(torch.ones(1, 1)).sum().backward()
            optimizer.step()
            optimizer.zero_grad()
            scheduler.step()
        return used
    """,
)
def _first_schedule_value_skipped(bad, good):
    assert good == [1.0, 0.5]
    assert bad == [0.5, 0.25]  # the initial learning rate was never used


@proof(
    "DLX005",
    bad="""
    import torch
    def run():
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
        before = model.weight.detach().clone()
        x = torch.randn(8, 4)
        optimizer.zero_grad()
        loss = model(x).pow(2).mean()
        scaler.scale(loss).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        return (model.weight.detach() - before).norm().item()
    """,
    good="""
    import torch
    def run():
        torch.manual_seed(0)
        model = torch.nn.Linear(4, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
        scaler = torch.amp.GradScaler("cpu", init_scale=2.0**16)
        before = model.weight.detach().clone()
        x = torch.randn(8, 4)
        optimizer.zero_grad()
        loss = model(x).pow(2).mean()
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()
        return (model.weight.detach() - before).norm().item()
    """,
)
def _clip_on_scaled_gradients(bad, good):
    # Clipping the scaled gradients shrinks the real update by about the loss scale.
    assert bad < good / 1000


@proof(
    "DLX006",
    bad="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        criterion = torch.nn.MSELoss()
        total = 0.0
        for _ in range(5):
            optimizer.zero_grad()
            loss = criterion(model(torch.ones(3, 2)), torch.zeros(3, 1))
            loss.backward()
            optimizer.step()
            total += loss
        observe(total)
    """,
    good="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        criterion = torch.nn.MSELoss()
        total = 0.0
        for _ in range(5):
            optimizer.zero_grad()
            loss = criterion(model(torch.ones(3, 2)), torch.zeros(3, 1))
            loss.backward()
            optimizer.step()
            total += loss.item()
        observe(total)
    """,
)
def _accumulator_keeps_graph(bad, good):
    def graph_size(tensor):
        seen, stack = set(), [tensor.grad_fn]
        while stack:
            node = stack.pop()
            if node is None or node in seen:
                continue
            seen.add(node)
            stack.extend(next_fn for next_fn, _ in node.next_functions)
        return len(seen)

    assert not _has_graph(good)  # a float (`.item()`) or a detached tensor (the fix's `.detach()`)
    assert bad.requires_grad and graph_size(bad) >= 5 * 3  # every iteration's graph is linked


@proof(
    "DLX007",
    bad="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        criterion = torch.nn.MSELoss()
        history = []
        for _ in range(4):
            optimizer.zero_grad()
            loss = criterion(model(torch.ones(3, 2)), torch.zeros(3, 1))
            loss.backward()
            optimizer.step()
            history.append(loss)
        observe(history)
    """,
    good="""
    import torch
    def run():
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
        criterion = torch.nn.MSELoss()
        history = []
        for _ in range(4):
            optimizer.zero_grad()
            loss = criterion(model(torch.ones(3, 2)), torch.zeros(3, 1))
            loss.backward()
            optimizer.step()
            history.append(loss.item())
        observe(history)
    """,
)
def _stored_tensors_keep_graphs(bad, good):
    assert all(t.grad_fn is not None for t in bad)
    assert not any(_has_graph(v) for v in good)  # floats, or detached tensors (the fix)


# ------------------------------------------------------------------------------------ modes


DROPOUT_MODEL = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(self.fc(x))
"""


@proof(
    "DLX008",
    bad=DROPOUT_MODEL + """
def evaluate(model: Net, batches):
    with torch.no_grad():
        return [model(x) for x in batches]

def run():
    model = Net()
    x = torch.ones(1, 8)
    return evaluate(model, [x, x])
""",
    good=DROPOUT_MODEL + """
def evaluate(model: Net, batches):
    model.eval()
    with torch.no_grad():
        return [model(x) for x in batches]

def run():
    model = Net()
    x = torch.ones(1, 8)
    return evaluate(model, [x, x])
""",
)
def _evaluation_in_training_mode_is_random(bad, good):
    assert not torch.equal(bad[0], bad[1])  # dropout still active: two evaluations differ
    assert torch.equal(good[0], good[1])


@proof(
    "DLX009",
    bad=DROPOUT_MODEL + """
def run():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    modes = []
    for step in range(3):
        optimizer.zero_grad()
        modes.append(model.training)
        model(torch.ones(1, 8)).sum().backward()
        optimizer.step()
        if step == 0:
            model.eval()
            with torch.no_grad():
                model(torch.ones(1, 8))
    return modes
""",
    good=DROPOUT_MODEL + """
def run():
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    modes = []
    for step in range(3):
        optimizer.zero_grad()
        modes.append(model.training)
        model(torch.ones(1, 8)).sum().backward()
        optimizer.step()
        if step == 0:
            model.eval()
            with torch.no_grad():
                model(torch.ones(1, 8))
            model.train()
    return modes
""",
)
def _training_continues_in_eval_mode(bad, good):
    assert bad == [True, False, False]
    assert good == [True, True, True]


@proof(
    "DLX010",
    bad="""
import torch

def predict(net, batch):
    net.eval()
    return net(batch)

def run():
    return predict(torch.nn.Linear(4, 4), torch.ones(2, 4))
""",
    good="""
import torch

@torch.no_grad()
def predict(net, batch):
    net.eval()
    return net(batch)

def run():
    return predict(torch.nn.Linear(4, 4), torch.ones(2, 4))
""",
)
def _evaluation_builds_a_graph(bad, good):
    assert bad.grad_fn is not None  # the graph (and the activations it saves) is kept
    assert good.grad_fn is None


@proof(
    "DLX024",
    bad="""
import torch
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        return F.dropout(x, p=0.5)

def run():
    head = Head()
    head.eval()
    return head(torch.ones(1, 64))
""",
    good="""
import torch
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        return F.dropout(x, p=0.5, training=self.training)

def run():
    head = Head()
    head.eval()
    return head(torch.ones(1, 64))
""",
)
def _functional_dropout_ignores_eval(bad, good):
    assert (bad == 0).any()  # still dropping after eval()
    assert torch.equal(good, torch.ones(1, 64))


@proof(
    "DLX026",
    name="DLX026-linear",
    no_fix="the fix hoists only parameter-free layers (Dropout); a Linear built in forward needs a decision "
    "by hand (its parameters, initialisation and checkpoint keys change), see the DLX026-dropout proof",
    bad="""
import torch
from torch import nn

class Regressor(nn.Module):
    def forward(self, x):
        return nn.Linear(4, 1)(x)

def run():
    model = Regressor()
    x = torch.ones(1, 4)
    return list(model.parameters()), model(x), model(x)
""",
    good="""
import torch
from torch import nn

class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(x)

def run():
    model = Regressor()
    x = torch.ones(1, 4)
    return list(model.parameters()), model(x), model(x)
""",
)
def _layer_rebuilt_every_call(bad, good):
    assert bad[0] == []  # nothing to optimise
    assert not torch.equal(bad[1], bad[2])  # new random weights on every call
    assert len(good[0]) == 2 and torch.equal(good[1], good[2])


@proof(
    "DLX026",
    name="DLX026-dropout",
    bad="""
import torch
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        return nn.Dropout(0.5)(x)

def run():
    head = Head()
    head.eval()
    return head(torch.ones(1, 64))
""",
    good="""
import torch
from torch import nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        return self.drop(x)

def run():
    head = Head()
    head.eval()
    return head(torch.ones(1, 64))
""",
)
def _dropout_built_in_forward_ignores_eval(bad, good):
    assert (bad == 0).any()  # a fresh Dropout is always in training mode
    assert torch.equal(good, torch.ones(1, 64))


# ------------------------------------------------------------------------------------ losses and numerics


@proof(
    "DLX011",
    bad="""
import torch
import torch.nn.functional as F

def run():
    logits = torch.tensor([[10.0, 0.0, 0.0]])
    target = torch.tensor([0])
    probs = F.softmax(logits, dim=-1)
    return F.cross_entropy(probs, target)
""",
    good="""
import torch
import torch.nn.functional as F

def run():
    logits = torch.tensor([[10.0, 0.0, 0.0]])
    target = torch.tensor([0])
    return F.cross_entropy(logits, target)
""",
)
def _softmax_twice_puts_a_floor_on_the_loss(bad, good):
    assert good.item() < 1e-3  # a confident correct prediction costs almost nothing
    assert bad.item() > 0.5  # softmax of probabilities: the loss cannot go below ~0.55


@proof(
    "DLX012",
    bad="""
import torch
import torch.nn.functional as F

def run():
    logits = torch.tensor([40.0])
    return F.binary_cross_entropy(torch.sigmoid(logits), torch.tensor([0.0]))
""",
    good="""
import torch
import torch.nn.functional as F

def run():
    logits = torch.tensor([40.0])
    return F.binary_cross_entropy_with_logits(logits, torch.tensor([0.0]))
""",
)
def _saturated_sigmoid_loses_the_loss(bad, good):
    assert math.isclose(good.item(), 40.0, rel_tol=1e-6)  # exact: log(1 + e^40)
    assert bad.item() == 100.0  # sigmoid(40) == 1.0 exactly, log clamped at -100


@proof(
    "DLX013",
    bad="""
import torch
import torch.nn.functional as F

def run():
    scores = torch.tensor([0.0, 200.0], requires_grad=True)
    log_probs = torch.log(F.softmax(scores, dim=-1))
    log_probs[0].backward()
    return log_probs, scores.grad
""",
    good="""
import torch
import torch.nn.functional as F

def run():
    scores = torch.tensor([0.0, 200.0], requires_grad=True)
    log_probs = F.log_softmax(scores, dim=-1)
    log_probs[0].backward()
    return log_probs, scores.grad
""",
)
def _log_of_softmax_underflows(bad, good):
    assert bad[0][0].item() == -math.inf
    assert torch.isnan(bad[1]).any()
    assert math.isclose(good[0][0].item(), -200.0, rel_tol=1e-6) and torch.isfinite(good[1]).all()


@proof(
    "DLX014",
    bad="""
import torch

def run():
    p = torch.tensor([0.0, 0.5], requires_grad=True)
    out = torch.log(p).sum()
    out.backward()
    return out, p.grad
""",
    good="""
import torch

def run():
    p = torch.tensor([0.0, 0.5], requires_grad=True)
    out = torch.log(p.clamp_min(torch.finfo(p.dtype).eps)).sum()
    out.backward()
    return out, p.grad
""",
)
def _log_of_zero(bad, good):
    assert bad[0].item() == -math.inf and not torch.isfinite(bad[1]).all()
    assert torch.isfinite(good[0]) and torch.isfinite(good[1]).all()


@proof(
    "DLX015",
    bad="""
import torch
import torch.nn.functional as F

def run():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0]])
    target = torch.tensor([0, 1])
    return F.nll_loss(F.softmax(logits, dim=1), target)
""",
    good="""
import torch
import torch.nn.functional as F

def run():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0]])
    target = torch.tensor([0, 1])
    return F.nll_loss(F.log_softmax(logits, dim=1), target)
""",
)
def _nll_of_probabilities_is_not_a_likelihood(bad, good):
    assert -1.0 <= bad.item() < 0.0  # minus a probability: negative, bounded
    assert good.item() > 0.0


@proof(
    "DLX016",
    bad="""
import math
import torch

def run():
    loss = torch.tensor(float("nan")).item()
    return loss == float("nan")
""",
    good="""
import math
import torch

def run():
    loss = torch.tensor(float("nan")).item()
    return math.isnan(loss)
""",
)
def _nan_never_equals(bad, good):
    assert bad is False and good is True


@proof(
    "DLX017",
    bad="""
import torch

def run():
    x = torch.tensor([1e-8])
    return torch.log(1 + x)
""",
    good="""
import torch

def run():
    x = torch.tensor([1e-8])
    return torch.log1p(x)
""",
)
def _log_one_plus_small(bad, good):
    assert bad.item() == 0.0
    assert math.isclose(good.item(), 1e-8, rel_tol=1e-6)


@proof(
    "DLX030",
    bad="""
import torch

def run():
    x = torch.tensor([1e-8])
    return torch.exp(x) - 1
""",
    good="""
import torch

def run():
    x = torch.tensor([1e-8])
    return torch.expm1(x)
""",
)
def _exp_minus_one_small(bad, good):
    assert bad.item() == 0.0
    assert math.isclose(good.item(), 1e-8, rel_tol=1e-6)


@proof(
    "DLX031",
    bad="""
import torch

def run():
    x = torch.tensor([[1000.0, 999.0]])
    return torch.log(torch.sum(torch.exp(x), dim=-1))
""",
    good="""
import torch

def run():
    x = torch.tensor([[1000.0, 999.0]])
    return torch.logsumexp(x, dim=-1)
""",
)
def _logsumexp_overflow(bad, good):
    assert bad.item() == math.inf
    assert math.isclose(good.item(), 1000.0 + math.log1p(math.exp(-1.0)), rel_tol=1e-6)


@proof(
    "DLX032",
    bad="""
import torch

@torch.no_grad()
def step(model, x):
    loss = model(x).sum()
    loss.backward()

def run():
    try:
        step(torch.nn.Linear(2, 1), torch.ones(1, 2))
    except RuntimeError as error:
        return str(error)
    return None
""",
    good="""
import torch

def step(model, x):
    loss = model(x).sum()
    loss.backward()

def run():
    model = torch.nn.Linear(2, 1)
    step(model, torch.ones(1, 2))
    return model.weight.grad
""",
)
def _backward_without_graph(bad, good):
    assert bad is not None and "does not require grad" in bad
    assert good is not None


# ------------------------------------------------------------------------------------ modules and tensors


@proof(
    "DLX018",
    bad="""
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(4, 4) for _ in range(3)]

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

def run():
    return sum(p.numel() for p in Net().parameters())
""",
    good="""
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

def run():
    return sum(p.numel() for p in Net().parameters())
""",
)
def _plain_list_not_registered(bad, good):
    assert bad == 0 and good == 3 * (4 * 4 + 4)


@proof(
    "DLX019",
    bad="""
import torch
from torch import nn

def run():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_forward_hook(lambda module, inputs, output: calls.append(1))
    layer.forward(torch.ones(1, 2))
    return len(calls)
""",
    good="""
import torch
from torch import nn

def run():
    layer = nn.Linear(2, 2)
    calls = []
    layer.register_forward_hook(lambda module, inputs, output: calls.append(1))
    layer(torch.ones(1, 2))
    return len(calls)
""",
)
def _forward_skips_hooks(bad, good):
    assert bad == 0 and good == 1


@proof(
    "DLX020",
    bad="""
import torch

def run():
    x = torch.zeros(2, dtype=torch.float64)
    x.float()
    return x.dtype
""",
    good="""
import torch

def run():
    x = torch.zeros(2, dtype=torch.float64)
    x = x.float()
    return x.dtype
""",
)
def _conversion_discarded(bad, good):
    assert bad == torch.float64 and good == torch.float32


@proof(
    "DLX021",
    bad="""
import torch

def run():
    p = torch.nn.Parameter(torch.ones(2))
    p.require_grad = False
    return p.requires_grad
""",
    good="""
import torch

def run():
    p = torch.nn.Parameter(torch.ones(2))
    p.requires_grad = False
    return p.requires_grad
""",
)
def _typo_freezes_nothing(bad, good):
    assert bad is True and good is False


@proof(
    "DLX028",
    bad="""
import torch

def run():
    w = torch.nn.Parameter(torch.tensor([1e-3]))
    optimizer = torch.optim.Adam([w], lr=0.1, weight_decay=0.01)
    w.grad = torch.zeros(1)
    optimizer.step()
    return 1e-3 - w.item()
""",
    good="""
import torch

def run():
    w = torch.nn.Parameter(torch.tensor([1e-3]))
    optimizer = torch.optim.AdamW([w], lr=0.1, weight_decay=0.01)
    w.grad = torch.zeros(1)
    optimizer.step()
    return 1e-3 - w.item()
""",
)
def _adam_l2_is_normalised(bad, good):
    # With no gradient, Adam's "decay" becomes a full normalised step of size lr (0.1), whatever
    # the weight; AdamW shrinks the weight by lr * wd * w (1e-6).
    assert bad > 0.09
    assert math.isclose(good, 0.1 * 0.01 * 1e-3, rel_tol=1e-3)


@proof(
    "DLX029",
    bad="""
import numpy as np
import torch
from torch import nn

class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        h = self.encoder(x)
        scores = np.tanh(h.detach().numpy())
        return torch.from_numpy(scores).sum() + self.bias.sum()

def run():
    model = Scorer()
    model(torch.ones(1, 4)).backward()
    return model.encoder.weight.grad
""",
    good="""
import torch
from torch import nn

class Scorer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(4, 4)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return torch.tanh(self.encoder(x)).sum() + self.bias.sum()

def run():
    model = Scorer()
    model(torch.ones(1, 4)).backward()
    return model.encoder.weight.grad
""",
)
def _numpy_stops_gradients(bad, good):
    assert bad is None  # the encoder never receives a gradient
    assert good is not None and good.abs().sum() > 0


@proof(
    "DLX033",
    bad="""
import torch
from torch import nn

def run():
    torch.manual_seed(0)
    x = torch.randn(4, 1, 3, 3)
    block = nn.Sequential(nn.Conv2d(1, 2, 1), nn.BatchNorm2d(2))
    first = block(x)
    bias = block[0].bias
    if bias is not None:
        with torch.no_grad():
            bias.add_(5.0)
    second = block(x)
    second.sum().backward()
    return first, second, None if bias is None else bias.grad, sum(p.numel() for p in block.parameters())
""",
    good="""
import torch
from torch import nn

def run():
    torch.manual_seed(0)
    x = torch.randn(4, 1, 3, 3)
    block = nn.Sequential(nn.Conv2d(1, 2, 1, bias=False), nn.BatchNorm2d(2))
    first = block(x)
    second = block(x)
    return first, second, None, sum(p.numel() for p in block.parameters())
""",
)
def _bias_cancelled_by_batchnorm(bad, good):
    assert torch.allclose(bad[0], bad[1], atol=1e-3)  # the bias changes nothing (up to BN's eps)
    assert bad[2].abs().max().item() < 1e-4  # and gets no gradient
    # Without it: the same outputs (the weights are drawn before the bias), two parameters fewer.
    assert good[2] is None and torch.allclose(good[0], bad[0], atol=1e-5)
    assert good[3] == bad[3] - 2


@proof(
    "DLX103",
    bad="""
import math
import torch

def attend(q, k, v):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v

def run():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 1, 2, 5, 4).unbind(0)
    return attend(q, k, v)
""",
    good="""
import torch
import torch.nn.functional as F

def attend(q, k, v):
    return F.scaled_dot_product_attention(q, k, v)

def run():
    torch.manual_seed(0)
    q, k, v = torch.randn(3, 1, 2, 5, 4).unbind(0)
    return attend(q, k, v)
""",
)
def _sdpa_computes_the_same(bad, good):
    assert torch.allclose(bad, good, atol=1e-6)  # the rewrite the hint suggests is equivalent


@proof(
    "DLX022",
    script=True,
    bad="""
import torch
from torch import nn

def main():
    observe(nn.Linear(4, 4).weight.detach().clone())

if __name__ == "__main__":
    main()
""",
    good="""
import torch
from torch import nn

def main():
    observe(nn.Linear(4, 4).weight.detach().clone())

if __name__ == "__main__":
    torch.manual_seed(0)
    main()
""",
)
def _unseeded_runs_differ(bad, good):
    assert not torch.equal(bad[0], bad[1])  # two runs, two different initialisations
    assert torch.equal(good[0], good[1])


@proof(
    "DLX102",
    bad="""
import torch

def run():
    model = torch.nn.Linear(64, 64)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.ones(1, 64)).sum().backward()
    opt.zero_grad(set_to_none=False)
    return model.weight.grad
""",
    good="""
import torch

def run():
    model = torch.nn.Linear(64, 64)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(torch.ones(1, 64)).sum().backward()
    opt.zero_grad()
    return model.weight.grad
""",
)
def _zero_filled_gradients_kept(bad, good):
    assert bad is not None and bad.numel() == 64 * 64 and not bad.any()  # memory kept, zero-filled
    assert good is None  # freed


@proof(
    "DLX023",
    bad="""
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

class Noisy(Dataset):
    def __init__(self):
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return float(self.rng.random())

def run():
    loader = DataLoader(Noisy(), batch_size=2, num_workers=2)
    return [batch.tolist() for batch in loader]
""",
    good="""
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, get_worker_info

class Noisy(Dataset):
    def __init__(self):
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return float(self.rng.random())

def reseed(worker_id):
    info = get_worker_info()
    info.dataset.rng = np.random.default_rng(info.seed % 2**32)

def run():
    loader = DataLoader(Noisy(), batch_size=2, num_workers=2, worker_init_fn=reseed)
    return [batch.tolist() for batch in loader]
""",
)
def _workers_repeat_the_same_randomness(bad, good):
    assert bad[0] == bad[1]  # the two workers drew the same "random" numbers
    assert good[0] != good[1]


# ------------------------------------------------------------------------------------ deprecations
# The DLX3xx rules report APIs, not bugs; their runtime facts are checked by the table test
# (tests/test_deprecation_table.py). These proofs cover what their fixes claim.


@proof(
    "DLX305",
    bad="""
    import warnings
    import torch
    from torch.utils.checkpoint import checkpoint
    def run():
        block = torch.nn.Linear(2, 2)
        scale = torch.nn.Parameter(torch.ones(2))
        x = torch.ones(1, 2)  # a batch of data: no requires_grad
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            (checkpoint(block, x) * scale).sum().backward()
        return [str(w.message) for w in caught], block.weight.grad
    """,
    good="""
    import warnings
    import torch
    from torch.utils.checkpoint import checkpoint
    def run():
        block = torch.nn.Linear(2, 2)
        scale = torch.nn.Parameter(torch.ones(2))
        x = torch.ones(1, 2)  # a batch of data: no requires_grad
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            (checkpoint(block, x, use_reentrant=False) * scale).sum().backward()
        return [str(w.message) for w in caught], block.weight.grad
    """,
)
def _reentrant_checkpoint_drops_parameter_gradients(bad, good):
    bad_warnings, bad_grad = bad
    good_warnings, good_grad = good
    assert any("use_reentrant" in m for m in bad_warnings)  # the implicit default warns
    assert bad_grad is None  # and, reentrant, it never reached the block's parameters
    assert not any("use_reentrant" in m for m in good_warnings)
    assert good_grad is not None and torch.count_nonzero(good_grad) > 0


@proof(
    "DLX307",
    bad="""
    import warnings
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    def run():
        torch.manual_seed(0)
        pred, target = torch.randn(3, 4), torch.randn(3, 4)
        logits, labels = torch.randn(3, 5), torch.tensor([0, 4, 2])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [
                F.mse_loss(pred, target, size_average=False),
                F.mse_loss(pred, target, reduce=False),
                F.mse_loss(pred, target, size_average=True),
                F.l1_loss(pred, target, size_average=False, reduce=False),
                F.l1_loss(pred, target, size_average=False, reduce=True),
                nn.MSELoss(size_average=True, reduce=True)(pred, target),
                nn.CrossEntropyLoss(size_average=False)(logits, labels),
                nn.NLLLoss(reduce=False)(F.log_softmax(logits, 1), labels),
                nn.SmoothL1Loss(size_average=False, reduce=False)(pred, target),
            ]
        return [str(w.message) for w in caught], values
    """,
    good="""
    import warnings
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    def run():
        torch.manual_seed(0)
        pred, target = torch.randn(3, 4), torch.randn(3, 4)
        logits, labels = torch.randn(3, 5), torch.tensor([0, 4, 2])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [
                F.mse_loss(pred, target, reduction="sum"),
                F.mse_loss(pred, target, reduction="none"),
                F.mse_loss(pred, target, reduction="mean"),
                F.l1_loss(pred, target, reduction="none"),
                F.l1_loss(pred, target, reduction="sum"),
                nn.MSELoss(reduction="mean")(pred, target),
                nn.CrossEntropyLoss(reduction="sum")(logits, labels),
                nn.NLLLoss(reduction="none")(F.log_softmax(logits, 1), labels),
                nn.SmoothL1Loss(reduction="none")(pred, target),
            ]
        return [str(w.message) for w in caught], values
    """,
)
def _legacy_flags_equal_the_reduction_string(bad, good):
    bad_warnings, bad_values = bad
    good_warnings, good_values = good
    assert len([m for m in bad_warnings if "size_average and reduce" in m]) == len(bad_values)
    assert not any("size_average" in m for m in good_warnings)
    assert len(bad_values) == len(good_values)
    for legacy, reduction in zip(bad_values, good_values):
        assert legacy.shape == reduction.shape and torch.equal(legacy, reduction)


@proof(
    "DLX307",
    name="DLX307-positional",
    bad="""
    import warnings
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    def run():
        torch.manual_seed(0)
        pred, target = torch.randn(3, 4), torch.randn(3, 4)
        logits, labels = torch.randn(3, 5), torch.tensor([0, 4, 2])
        weight = torch.rand(5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [
                nn.NLLLoss(weight, False)(F.log_softmax(logits, 1), labels),
                nn.MSELoss(False, False)(pred, target),
                nn.MSELoss(True, None)(pred, target),
                F.nll_loss(F.log_softmax(logits, 1), labels, weight, False),
                F.cross_entropy(logits, labels, None, None, reduce=False),
                nn.BCELoss(size_average=None, reduce=False)(torch.sigmoid(pred), torch.rand(3, 4)),
            ]
        return [str(w.message) for w in caught], values
    """,
    good="""
    import warnings
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    def run():
        torch.manual_seed(0)
        pred, target = torch.randn(3, 4), torch.randn(3, 4)
        logits, labels = torch.randn(3, 5), torch.tensor([0, 4, 2])
        weight = torch.rand(5)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = [
                nn.NLLLoss(weight, reduction="sum")(F.log_softmax(logits, 1), labels),
                nn.MSELoss(reduction="none")(pred, target),
                nn.MSELoss(reduction="mean")(pred, target),
                F.nll_loss(F.log_softmax(logits, 1), labels, weight, reduction="sum"),
                F.cross_entropy(logits, labels, None, reduction="none"),
                nn.BCELoss(reduction="none")(torch.sigmoid(pred), torch.rand(3, 4)),
            ]
        return [str(w.message) for w in caught], values
    """,
)
def _positional_legacy_flags_equal_the_reduction_string(bad, good):
    _legacy_flags_equal_the_reduction_string(bad, good)


def test_legacy_flags_left_at_none_neither_warn_nor_are_reported():
    """DLX307: `None` is both flags' default; PyTorch takes the legacy path only when one is not None."""
    import warnings

    import torch.nn as nn
    import torch.nn.functional as F

    source = (
        "import torch.nn as nn\nimport torch.nn.functional as F\n"
        "a = nn.BCELoss(size_average=None, reduce=None)\n"
        "b = nn.NLLLoss(None, None, -100, None)\n"
        "c = F.mse_loss(x, y, None, None, 'sum')\n"
    )
    assert lint_source("t.py", source, Settings(select=("DLX307",)), raise_errors=True) == []
    pred, target = torch.randn(3, 4), torch.randn(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.BCELoss(size_average=None, reduce=None)
        nn.NLLLoss(None, None, -100, None)
        F.mse_loss(pred, target, None, None, "sum")
        with pytest.raises(UserWarning, match="size_average and reduce"):
            nn.NLLLoss(None, False)  # the positional flag the rule reports


# ------------------------------------------------------------------------------------ the tests


IDS = [p.id for p in PROOFS]
RULES = {rule.code: rule for rule in all_rules()}


def test_proof_ids_are_unique():
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("item", PROOFS, ids=IDS)
def test_bad_version_is_flagged_and_good_version_is_not(item):
    settings = Settings(select=(item.code,))
    bad = {d.code for d in lint_source("proof.py", textwrap.dedent(item.bad), settings, raise_errors=True)}
    good = {d.code for d in lint_source("proof.py", textwrap.dedent(item.good), settings, raise_errors=True)}
    assert item.code in bad
    assert item.code not in good


@pytest.mark.parametrize("item", PROOFS, ids=IDS)
def test_the_claimed_difference_holds_on_torch(item):
    item.claim(_execute(item.bad, item.script), _execute(item.good, item.script))


@pytest.mark.parametrize("item", PROOFS, ids=IDS)
def test_the_claimed_difference_holds_on_the_fixed_text(item):
    """The proof run on what `--fix --unsafe-fixes` makes of the bad version (issue 6)."""
    if RULES[item.code].fix_availability is FixAvailability.NEVER:
        pytest.skip(f"{item.code} offers no fix")
    settings = Settings(select=(item.code,))
    bad = textwrap.dedent(item.bad)
    result = fix_source("proof.py", bad, settings, unsafe=True)
    if item.no_fix:
        assert result.text == bad, f"{item.code}: a fix now applies to this proof; check the claim on it"
        pytest.skip(f"{item.code}: {item.no_fix}")
    assert not result.errors
    assert result.text != bad, f"{item.code}: the fix did not change the proof's bad code"
    assert item.code not in {d.code for d in lint_source("proof.py", result.text, settings, raise_errors=True)}
    item.claim(_execute(bad, item.script), _execute(result.text, item.script))


def test_torch_load_executes_a_pickled_payload_unless_weights_only(tmp_path):
    """DLX025: a checkpoint can run code while it is loaded. The marker file proves the payload
    ran; PyTorch >= 2.6 defaults to weights_only=True, which is why the rule asks for an
    explicit argument on code that must also run on older releases."""
    import pickle

    marker = tmp_path / "payload-ran"
    payload = tmp_path / "checkpoint.pt"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"state": Payload()}, payload)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(payload, weights_only=True)
    assert not marker.exists()
    torch.load(payload, weights_only=False)
    assert marker.exists()
    marker.unlink()
    with pytest.raises(pickle.UnpicklingError):  # the 2.6+ default is the safe one
        torch.load(payload)
    assert not marker.exists()
    source = "import torch\n\ndef f(p):\n    return torch.load(p)\n"
    settings = Settings(select=("DLX025",))
    assert [d.code for d in lint_source("x.py", source, settings)] == ["DLX025"]
    # The fixed text passes `weights_only=True` explicitly, so it refuses the payload on any
    # release (here it cannot differ from the 2.6+ default; on older releases it does).
    fixed = fix_source("x.py", source, settings, unsafe=True).text
    assert "weights_only=True" in fixed and lint_source("x.py", fixed, settings) == []
    namespace: dict = {}
    exec(compile(fixed, "<fixed>", "exec"), namespace)
    with pytest.raises(pickle.UnpicklingError):
        namespace["f"](payload)
    assert not marker.exists()


def test_every_rule_has_a_proof_or_says_why_not():
    proven = {p.code for p in PROOFS} | {"DLX025"}
    for rule in all_rules():
        if rule.code.startswith(("DLX9", "DLX3")):
            continue  # meta rules; deprecations are checked against torch by the table test
        assert rule.code in proven or rule.no_torch_proof.strip(), f"{rule.code}: no proof and no reason"
