"""The semantic model on its own: names, origins, classes, control-flow paths and summaries."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from dlx_lint.semantic.flow import PathWalker, block_statements
from dlx_lint.semantic.kinds import Kind
from dlx_lint.semantic.model import SemanticModel
from dlx_lint.semantic.names import dotted_name
from dlx_lint.semantic.regions import eval_regions, grad_disabled
from dlx_lint.semantic.training import loop_trains, mode_switch, step_info, summary


def build(source: str) -> SemanticModel:
    source = textwrap.dedent(source)
    return SemanticModel(cst.parse_module(source), source)


def call_named(model: SemanticModel, text: str) -> cst.Call:
    """The first call whose code is `text`."""
    for call in model.calls:
        if cst.Module([]).code_for_node(call) == text:
            return call
    raise AssertionError(f"no call {text!r}")


def name_in(model: SemanticModel, function: str, name: str) -> cst.Name:
    """A use of `name` inside function `function` (the last one in source order)."""
    found = None
    for node in model.parent:
        if isinstance(node, cst.Name) and node.value == name:
            owner = model.enclosing_function(node)
            if owner is not None and owner.name.value == function:
                found = node
    assert found is not None, f"{name} not used in {function}"
    return found


# ----------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "source,expression,expected",
    [
        ("import torch as T\nT.load", "T.load", "torch.load"),
        ("from torch.optim import Adam as A\nA", "A", "torch.optim.Adam"),
        ("from torch.utils.data.dataloader import DataLoader\nDataLoader", "DataLoader", "torch.utils.data.DataLoader"),
        ("import torch.nn.functional as F\nF.dropout", "F.dropout", "torch.nn.functional.dropout"),
        ("from torch import nn\nnn.functional.cross_entropy", "nn.functional.cross_entropy", "torch.nn.functional.cross_entropy"),
        ("import torch.nn\ntorch.nn.Linear", "torch.nn.Linear", "torch.nn.Linear"),
        ("from torch.nn.modules.loss import CrossEntropyLoss\nCrossEntropyLoss", "CrossEntropyLoss", "torch.nn.CrossEntropyLoss"),
        ("import torch\nf = torch.symeig\nf", "f", "torch.symeig"),
        ("import lightning.pytorch as pl\npl.LightningModule", "pl.LightningModule", "pytorch_lightning.LightningModule"),
    ],
)
def test_qualified_names_follow_aliases_and_reexports(source, expression, expected):
    model = build(source)
    last = model.module.body[-1].body[0].value  # the expression statement on the last line
    assert cst.Module([]).code_for_node(last) == expression
    assert model.qualname(last) == expected


def test_function_level_import_and_shadowing_local():
    model = build(
        """
        def f():
            import torch as tt
            return tt.load("x")

        def g(torch):
            return torch.load("x")
        """
    )
    inside_f = call_named(model, 'tt.load("x")')
    inside_g = call_named(model, 'torch.load("x")')
    assert model.qualname(inside_f.func) == "torch.load"
    assert model.qualname(inside_g.func) is None  # a parameter named torch is not the module


# ----------------------------------------------------------------------------- origins


def test_optimizer_from_constructor_alias_and_from_stepped_parameter():
    model = build(
        """
        from torch.optim import Adam as A

        def build(params):
            opt = A(params, lr=1e-3)
            return opt

        def train(model, optimizer, loader):
            for x in loader:
                model(x).sum().backward()
                optimizer.step()
                optimizer.zero_grad()
        """
    )
    constructed = name_in(model, "build", "opt")
    passed = name_in(model, "train", "optimizer")
    assert model.origin(constructed).kind is Kind.OPTIMIZER
    assert model.origin(constructed).certain
    assert model.origin(passed).kind is Kind.OPTIMIZER
    assert not model.origin(passed).certain  # known only from how it is used
    info = step_info(model, call_named(model, "optimizer.step()"))
    assert info is not None and info.optimizer == "optimizer"


def test_scheduler_scaler_loader_and_loss_origins():
    model = build(
        """
        import torch
        from torch.utils.data.dataloader import DataLoader

        def setup(opt, ds, use_amp):
            sched = torch.optim.lr_scheduler.StepLR(opt, 10)
            scaler = torch.amp.GradScaler("cuda") if use_amp else None
            loader = DataLoader(ds, batch_size=4)
            crit = torch.nn.CrossEntropyLoss()
            t = torch.zeros(3).cuda()
            return sched, scaler, loader, crit, t
        """
    )
    kinds = {n: model.origin(name_in(model, "setup", n)).kind for n in ("sched", "scaler", "loader", "crit", "t")}
    assert kinds == {
        "sched": Kind.SCHEDULER,
        "scaler": Kind.SCALER,
        "loader": Kind.DATALOADER,
        "crit": Kind.LOSS,
        "t": Kind.TENSOR,
    }


def test_model_class_through_same_file_base_chain():
    model = build(
        """
        from torch import nn

        class Base(nn.Module):
            pass

        class Middle(Base):
            pass

        class Net(Middle):
            def forward(self, x):
                return x

        class Plain:
            pass

        def run(x):
            net = Net().to("cuda")
            other = Plain()
            return net(x), other
        """
    )
    assert model.classes_by_name["Net"].is_module
    assert not model.classes_by_name["Plain"].is_module
    net = model.origin(name_in(model, "run", "net"))
    assert net.kind is Kind.MODULE and net.cls is model.classes_by_name["Net"]
    assert not model.origin(name_in(model, "run", "other")).is_module


def test_self_attributes_and_annotations():
    model = build(
        """
        import torch
        from torch import nn

        class Trainer:
            def __init__(self, model: nn.Module):
                self.model = model
                self.opt = torch.optim.SGD(model.parameters(), lr=0.1)

            def step(self, batch):
                self.model(batch).sum().backward()
                self.opt.step()
        """
    )
    step = call_named(model, "self.opt.step()")
    assert step_info(model, step).certain
    assert model.origin(call_named(model, "self.model(batch)").func).kind is Kind.MODULE


def test_module_from_usage_evidence_and_clause_10_guess():
    model = build(
        """
        from torch import nn

        class OnlyModel(nn.Module):
            def forward(self, x):
                return x

        def a(m, x):
            m.eval()
            return m(x)

        def b(net, x):
            return net(x)
        """
    )
    used = model.origin(name_in(model, "a", "m"))
    guessed = model.origin(name_in(model, "b", "net"))
    assert used.kind is Kind.MODULE and not used.guessed
    assert guessed.kind is Kind.MODULE and guessed.guessed and guessed.cls.name == "OnlyModel"


# ----------------------------------------------------------------------------- paths


class _Trace:
    """Records, per path, the sequence of called method names."""

    def __init__(self, model):
        self.model = model

    def on_assign(self, state, target, node):
        return state

    def on_call(self, state, call):
        func = call.func
        name = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
        return state + (name,)


def _paths(source: str, function: str = "f") -> set[tuple[str, ...]]:
    model = build(source)
    function_node = next(f for f in model.functions if f.name.value == function)
    walker = PathWalker(model, _Trace(model), model.scopes[function_node])
    result = walker.run_block(block_statements(function_node.body), frozenset({()}))
    return set(result.normal | result.returned)


def test_if_branches_are_separate_paths():
    paths = _paths(
        """
        def f(c):
            a()
            if c:
                b()
            else:
                d()
            e()
        """
    )
    assert paths == {("a", "b", "e"), ("a", "d", "e")}


def test_while_loop_runs_zero_or_more_times_and_break_leaves():
    paths = _paths(
        """
        def f(c):
            while c():
                g()
                if c():
                    break
            h()
        """
    )
    assert ("c", "h") in paths  # zero iterations
    assert ("c", "g", "c", "h") in paths  # one iteration, then break
    assert all(p[-1] == "h" for p in paths)


def test_with_blocks_and_try_bodies_are_straight_line_and_return_ends_a_path():
    paths = _paths(
        """
        def f(c):
            with ctx():
                a()
            try:
                b()
            except ValueError:
                handle()
            if c:
                return r()
            z()
        """
    )
    assert paths == {("ctx", "a", "b", "r"), ("ctx", "a", "b", "z")}


def test_nested_function_is_judged_where_called():
    paths = _paths(
        """
        def f():
            def run():
                inner()
            before()
            run()
        """
    )
    assert paths == {("before", "inner", "run")}


def test_loop_over_parameters_runs_at_least_once():
    paths = _paths(
        """
        def f(model):
            for p in model.parameters():
                clear()
        """
    )
    assert ("parameters", "clear") in paths
    assert ("parameters",) not in paths  # no zero-iteration path


# ----------------------------------------------------------------------------- summaries and regions


def test_helper_summaries_map_to_call_site_arguments():
    model = build(
        """
        def validate(model, loader):
            model.eval()
            for x in loader:
                model(x)
            model.train()

        def clear(opt):
            opt.zero_grad()

        def step(opt, loss):
            loss.backward()
            opt.step()
        """
    )
    functions = {f.name.value: f for f in model.functions}
    validate = summary(model, functions["validate"])
    assert validate.first_mode["model"] == {"eval"}
    assert validate.final_mode["model"] == {"train"}
    assert "model" in validate.direct_eval
    assert summary(model, functions["clear"]).clears == {"opt"}
    stepping = summary(model, functions["step"])
    assert stepping.steps == {"opt"} and stepping.backward


def test_training_loop_through_helper_and_eval_regions():
    model = build(
        """
        import torch

        def train_step(model, opt, batch):
            model(batch).sum().backward()
            opt.step()

        def fit(model, opt, loader, val_loader):
            for batch in loader:
                train_step(model, opt, batch)
            for batch in val_loader:
                model(batch)

        @torch.no_grad()
        def predict(model, x):
            return model(x)

        def test_something():
            pass
        """
    )
    loops = model.loops
    assert loop_trains(model, loops[0])  # through the same-file helper
    assert not loop_trains(model, loops[1])
    kinds = {(r.kind, getattr(r.node, "name", None) and r.node.name.value) for r in eval_regions(model)}
    assert ("function", "predict") in kinds
    assert ("loop", None) in kinds
    assert all(name != "test_something" for _, name in kinds)
    assert grad_disabled(model, call_named(model, "model(x)"))
    assert not grad_disabled(model, call_named(model, "model(batch)"))


def test_mode_switch_forms():
    model = build(
        """
        def f(m, flag):
            m.eval()
            m.train()
            m.train(False)
            m.train(mode=True)
            m.train(flag)
        """
    )
    switches = [mode_switch(model, c) for c in model.calls]
    assert switches == [("m", "eval"), ("m", "train"), ("m", "eval"), ("m", "train"), ("m", "set")]
