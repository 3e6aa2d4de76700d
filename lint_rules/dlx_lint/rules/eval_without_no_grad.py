"""DLX010 eval-without-no-grad: evaluation forward passes that still build autograd graphs."""

from __future__ import annotations

from functools import partial
from typing import Iterator

import libcst as cst

from ..diagnostics import Applicability, Severity
from ..fixes.helpers import spell, statement_in_block
from ..fixes.spec import FixUnavailable, NodeFix, Replace
from ..rule import FixAvailability, Finding, Reference, Rule
from ..semantic.evaluation import grad_tracking_forwards
from ..semantic.regions import region_has_gradient_computation
from ..semantic.training import calls_in


class EvalWithoutNoGrad(Rule):
    code = "DLX010"
    name = "eval-without-no-grad"
    severity = Severity.WARNING
    summary = "evaluation runs the model with autograd on: graphs and activations are kept"
    what = """
Reports the first model call in an evaluation region (a validation/test/evaluation function,
a loop over `val_loader`-like data, or the code after `model.eval()`) that is not inside
`with torch.no_grad()`, `torch.inference_mode()` or `torch.set_grad_enabled(False)`, nor in a
function decorated with them, when the region computes no gradients.
"""
    why = """
`model.eval()` changes layer behaviour but does not disable autograd. Every evaluation forward
then records the graph and keeps the activations it needs for a backward that never comes:
memory use grows to training levels (validation OOMs), and evaluation runs slower.
"""
    example = """
model.eval()
for x, y in val_loader:
    correct += (model(x).argmax(1) == y).sum().item()
"""
    use_instead = """
model.eval()
with torch.no_grad():
    for x, y in val_loader:
        correct += (model(x).argmax(1) == y).sum().item()
"""
    fix_safety = """
The fix adds `@torch.no_grad()` to an evaluation function that computes no gradients anywhere
(as its last decorator), or wraps the evaluation in `with torch.no_grad():` (the validation
loop, or the statement after `model.eval()` that calls the model). It is unsafe: a caller that
backpropagates through the returned values would now get tensors without history (an error at
`backward()`), and tensors the evaluation creates no longer require grad. No fix is offered for
`async` functions or when the statement to wrap also computes gradients.
"""
    limitations = """
A function whose every same-file call site runs under `no_grad` is treated as grad-disabled;
callers in other modules are not seen, so a helper only ever called under `no_grad` from
elsewhere is reported. Regions that call `backward()` or `torch.autograd.grad` (saliency maps,
adversarial evaluation) are exempt. Lightning's `validation_step`/`test_step`/`predict_step`
are exempt: the framework disables gradients around them.
"""
    references = (
        Reference("PyTorch docs: torch.no_grad", "https://docs.pytorch.org/docs/stable/generated/torch.no_grad.html"),
        Reference("PyTorch forums: model.eval() vs torch.no_grad()", "https://discuss.pytorch.org/t/model-eval-vs-with-torch-no-grad/19615/37"),
        Reference("skorch#218: validation OOM fixed by no_grad", "https://github.com/skorch-dev/skorch/issues/218"),
        Reference("OpenNMT-py#1141", "https://github.com/OpenNMT/OpenNMT-py/issues/1141"),
    )
    bad_examples = (
        """
import torch

def predict(net, batch):
    net.eval()
    return net(batch)  # expect: DLX010
""",
        """
import torch as T

def fit(net, loader, val_loader, opt):
    for x, y in loader:
        opt.zero_grad()
        net(x).sum().backward()
        opt.step()
    net.eval()
    scores = []
    for x, y in val_loader:
        scores.append(net(x).sum().item())  # expect: DLX010
    return scores
""",
    )
    fixed_examples = (
        """
import torch

@torch.no_grad()
def predict(net, batch):
    net.eval()
    return net(batch)  # expect: DLX010
""",
        """
import torch as T

def fit(net, loader, val_loader, opt):
    for x, y in loader:
        opt.zero_grad()
        net(x).sum().backward()
        opt.step()
    net.eval()
    scores = []
    with T.no_grad():
        for x, y in val_loader:
            scores.append(net(x).sum().item())  # expect: DLX010
    return scores
""",
    )
    fix_availability = FixAvailability.SOMETIMES
    fix_applicability = Applicability.UNSAFE
    good_examples = (
        """
import torch

@torch.no_grad()
def predict(net, batch):
    net.eval()
    return net(batch)

def saliency(net, x):
    net.eval()
    x.requires_grad_(True)
    net(x).sum().backward()
    return x.grad

def evaluate(net, loader):
    net.eval()
    with torch.inference_mode():
        return [net(x) for x in loader]
""",
    )

    def check(self, model) -> Iterator[Finding]:
        for call, path, region in grad_tracking_forwards(model):
            yield Finding(
                call,
                f"`{path}` runs with autograd enabled in evaluation code, keeping graphs and activations; "
                "wrap the evaluation in `with torch.no_grad():` (or `torch.inference_mode()`)",
                fix=partial(_fix, model, call, region),
            )


def _fix(model, call: cst.Call, region) -> NodeFix | None:
    """`@torch.no_grad()` on a function that computes no gradients at all; else `with
    torch.no_grad():` around the validation loop, or around the statement (of the function
    body, else the innermost) that calls the model, when it computes no gradients."""
    try:
        no_grad, imports = spell(model, "torch.no_grad", call)
    except FixUnavailable:
        return None
    owner = region.owner
    if isinstance(owner, cst.FunctionDef) and region.kind in ("function", "dominated") \
            and owner.asynchronous is None and not region_has_gradient_computation(model, calls_in(model, owner)):
        decorator = cst.Decorator(decorator=cst.parse_expression(f"{no_grad}()"))
        new = owner.with_changes(decorators=(*owner.decorators, decorator))
        return NodeFix(f"Decorate `{owner.name.value}` with `@{no_grad}()`", (Replace(owner, new), *imports))
    if region.kind == "loop":
        candidates = [region.node]
    else:
        candidates = [_top_statement(model, call, owner), statement_in_block(model, call)]
    for statement in candidates:
        if statement is None or statement_in_block(model, statement) is not statement:
            continue
        if isinstance(model.parent.get(statement), cst.Module) and isinstance(statement, cst.SimpleStatementLine) \
                and any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
            continue
        if region_has_gradient_computation(model, calls_in(model, statement)):
            continue
        wrapped = cst.With(
            items=[cst.WithItem(item=cst.parse_expression(f"{no_grad}()"))],
            body=cst.IndentedBlock(body=[statement.with_changes(leading_lines=())]),
            leading_lines=statement.leading_lines,
        )
        return NodeFix(f"Wrap in `with {no_grad}():`", (Replace(statement, wrapped), *imports))
    return None


def _top_statement(model, call: cst.Call, owner: cst.CSTNode) -> cst.CSTNode | None:
    """The statement of `owner`'s body (a function or the module) that holds `call`."""
    if isinstance(owner, cst.Module):
        statements = owner.body
    elif isinstance(owner, cst.FunctionDef) and isinstance(owner.body, cst.IndentedBlock):
        statements = owner.body.body
    else:
        return None
    ancestors = {id(a) for a in model.ancestors(call)}
    return next((s for s in statements if id(s) in ancestors), None)
