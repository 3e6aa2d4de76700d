"""DLX010 eval-without-no-grad: evaluation forward passes that still build autograd graphs."""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Severity
from ..rule import Finding, Reference, Rule
from ..semantic.evaluation import first_grad_tracking_forward


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
    )
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
        for call, path in first_grad_tracking_forward(model):
            yield Finding(
                call,
                f"`{path}` runs with autograd enabled in evaluation code, keeping graphs and activations; "
                "wrap the evaluation in `with torch.no_grad():` (or `torch.inference_mode()`)",
            )
