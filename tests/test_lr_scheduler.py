"""Learning-rate schedules: closed forms, ReduceLROnPlateau's rules, and PyTorch's schedules where installed."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad
from minigrad.nn import Parameter
from minigrad.optim import SGD, CosineAnnealingLR, ReduceLROnPlateau, StepLR


def param(values) -> Parameter:
    return Parameter(np.array(values, dtype=np.float64))


def sgd_groups(lrs):
    return SGD([{"params": [param([0.0])], "lr": lr} for lr in lrs], lr=1.0)


def test_step_lr_closed_form():
    opt = sgd_groups([0.1, 1.0])
    sched = StepLR(opt, step_size=3, gamma=0.5)
    for epoch in range(12):
        want = [0.1 * 0.5 ** (epoch // 3), 1.0 * 0.5 ** (epoch // 3)]
        assert sched.get_last_lr() == pytest.approx(want, rel=1e-15)
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(want, rel=1e-15)
        sched.step()


def test_cosine_closed_form():
    opt = sgd_groups([0.1])
    sched = CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    lrs = []
    for _ in range(11):
        lrs.append(sched.get_last_lr()[0])
        sched.step()
    want = [0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * e / 10)) / 2 for e in range(11)]
    assert lrs == pytest.approx(want, rel=1e-14)
    assert lrs[0] == pytest.approx(0.1) and lrs[10] == pytest.approx(0.001)


def test_scheduler_bad_arguments():
    opt = sgd_groups([0.1])
    with pytest.raises(ValueError, match="step_size"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="T_max"):
        CosineAnnealingLR(opt, T_max=0)
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode"):
        ReduceLROnPlateau(opt, mode="maximum")
    with pytest.raises(ValueError, match="optimizer"):
        StepLR(object(), step_size=1)


def test_plateau_max_divides_by_ten_after_patience():
    opt = SGD([param([0.0])], lr=0.01, momentum=0.9, weight_decay=5e-4)  # the AlexNet recipe
    sched = ReduceLROnPlateau(opt, mode="max", factor=0.1, patience=2)
    lrs = []
    for acc in [0.50, 0.60, 0.60, 0.59, 0.60, 0.61, 0.61, 0.61, 0.61]:
        sched.step(acc)
        lrs.append(opt.param_groups[0]["lr"])
    # best 0.60 at epoch 1; epochs 2, 3, 4 are bad: the third (> patience) cuts the lr; 0.61 improves
    # on 0.60, then 3 more bad epochs cut it again
    want = [0.01, 0.01, 0.01, 0.01, 1e-3, 1e-3, 1e-3, 1e-3, 1e-4]
    assert lrs == pytest.approx(want, rel=1e-12)
    assert sched.get_last_lr() == pytest.approx([1e-4])


def test_plateau_threshold_cooldown_and_min_lr():
    opt = sgd_groups([1.0, 0.5])
    sched = ReduceLROnPlateau(opt, mode="min", factor=0.1, patience=0, cooldown=2, min_lr=[0.0, 0.004],
                              threshold=0.1, threshold_mode="rel")
    sched.step(1.0)   # first metric always improves on inf
    sched.step(0.95)  # not below 1.0 * (1 - 0.1): bad, patience 0 -> cut, cooldown 2
    assert sched.get_last_lr() == pytest.approx([0.1, 0.05])
    sched.step(5.0)   # cooldown: bad epochs do not count
    sched.step(5.0)
    assert sched.get_last_lr() == pytest.approx([0.1, 0.05])
    sched.step(5.0)   # cooldown over: cut again, group 1 stops at min_lr
    assert sched.get_last_lr() == pytest.approx([0.01, 0.005])
    for _ in range(6):
        sched.step(5.0)
    # two more cuts: group 0 to 1e-4; group 1 to max(5e-4, 0.004), then held there
    assert sched.get_last_lr() == pytest.approx([1e-4, 0.004])


def test_plateau_abs_threshold_min_mode():
    opt = sgd_groups([1.0])
    sched = ReduceLROnPlateau(opt, mode="min", patience=0, threshold=0.5, threshold_mode="abs")
    sched.step(10.0)
    sched.step(9.6)  # an improvement of 0.4 < 0.5 does not count
    assert sched.get_last_lr() == pytest.approx([0.1])
    sched.step(9.0)  # 9.0 < 10.0 - 0.5 is an improvement: no cut
    assert sched.get_last_lr() == pytest.approx([0.1]) and sched.best == 9.0



@pytest.mark.parametrize("make", [
    lambda m, o: m.StepLR(o, step_size=3, gamma=0.5),
    lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    lambda m, o: m.ReduceLROnPlateau(o, mode="max", patience=2),
    lambda m, o: m.ReduceLROnPlateau(o, patience=0, cooldown=2, min_lr=0.004, threshold=0.1),
    lambda m, o: m.ReduceLROnPlateau(o, patience=1, threshold=0.5, threshold_mode="abs"),
])
def test_schedules_match_pytorch(make):
    torch = pytest.importorskip("torch")
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    tsched, sched = make(torch.optim.lr_scheduler, topt), make(minigrad.optim.lr_scheduler, sgd_groups([0.1]))
    plateau = isinstance(sched, ReduceLROnPlateau)
    metrics = np.random.default_rng(0).choice([1.0, 0.9, 0.95, 1.1, 0.5, 0.51], size=40)
    for m in metrics:
        topt.step()
        args = (float(m),) if plateau else ()
        tsched.step(*args)
        sched.step(*args)
        assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr(), rel=1e-12)
