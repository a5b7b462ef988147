"""WGAN-GP and hinge losses: values on hand-computed inputs, the penalty, detaching, one step."""

import random

import pytest
import torch
from torch import nn

from ganaudio.config import TrainConfig
from ganaudio.losses.adversarial import WGANGP, Hinge, build_loss, gradient_penalty, zero_centred_penalty


class Linear(nn.Module):
    """D(x) = <w, flatten(x)>: its input gradient is w everywhere, so ‖∇D‖ = ‖w‖."""

    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(w)

    def forward(self, x, labels=None):
        return x.flatten(1) @ self.w


class Identity(nn.Module):
    def forward(self, x, labels=None):
        return x.flatten()


def random_shape():
    return (random.randint(2, 6), random.randint(1, 3), random.randint(1, 8))


def test_gradient_penalty_is_zero_for_unit_norm_critic():
    shape = random_shape()
    w = torch.randn(shape[1] * shape[2])
    gp = gradient_penalty(Linear(w / w.norm()), torch.randn(shape), torch.randn(shape))
    assert gp.item() == pytest.approx(0.0, abs=1e-10)


def test_gradient_penalty_is_norm_minus_one_squared_otherwise():
    shape = random_shape()
    w = torch.randn(shape[1] * shape[2])
    gp = gradient_penalty(Linear(3 * w / w.norm()), torch.randn(shape), torch.randn(shape))
    assert gp.item() == pytest.approx(4.0, rel=1e-5)  # (3 - 1)²


def test_gradient_penalty_reaches_the_critic_weights():
    # The penalty must train the critic: double backward through the input gradient.
    w = torch.full((4,), 2.0, requires_grad=True)
    critic = Linear(w.detach().clone())
    gp = gradient_penalty(critic, torch.randn(3, 1, 4), torch.randn(3, 1, 4))
    gp.backward()
    # d/dw (‖w‖ − 1)² = 2(‖w‖ − 1) w/‖w‖ = 2·(4 − 1)·0.5 = 3 per component
    torch.testing.assert_close(critic.w.grad, torch.full((4,), 3.0))


def test_wgan_gp_values():
    real = torch.tensor([[2.0], [0.5]])
    fake = torch.tensor([[-3.0], [0.0]])
    w = torch.tensor([1.0])  # unit norm: gp 0
    loss, m = WGANGP(10.0).critic_loss(Linear(w), real, fake)
    assert loss.item() == pytest.approx(-1.5 - 1.25)
    assert m["adv/wasserstein"].item() == pytest.approx(2.75)
    assert m["adv/gp"].item() == pytest.approx(0.0, abs=1e-10)
    g_loss, m = WGANGP().generator_loss(Linear(w), fake)
    assert g_loss.item() == pytest.approx(1.5) and m["adv/gen_loss"].item() == pytest.approx(1.5)


def test_hinge_values():
    real = torch.tensor([2.0, 0.5])
    fake = torch.tensor([-3.0, 0.0])
    loss, m = Hinge().critic_loss(Identity(), real, fake)
    # real: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; fake: relu(1-3)=0, relu(1+0)=1 -> 0.5
    assert loss.item() == pytest.approx(0.75)
    assert m["adv/wasserstein"].item() == pytest.approx(2.75)
    assert m["adv/gp"].item() == 0.0  # logged for every loss
    g_loss, _ = Hinge().generator_loss(Identity(), fake)
    assert g_loss.item() == pytest.approx(1.5)


@pytest.mark.parametrize("loss", [WGANGP(), Hinge()])
def test_critic_loss_detaches_fake_and_generator_loss_does_not(loss):
    gen = nn.Linear(3, 5)
    critic = Linear(torch.randn(5))
    fake = gen(torch.randn(4, 3)).unsqueeze(1)  # (B, 1, 5)
    real = torch.randn(4, 1, 5)
    loss.critic_loss(critic, real, fake)[0].backward()
    assert gen.weight.grad is None and critic.w.grad is not None
    loss.generator_loss(critic, fake)[0].backward()
    assert gen.weight.grad is not None


@pytest.mark.parametrize("loss", [WGANGP(), Hinge()])
def test_conditional_critic_receives_labels(loss):
    seen = []

    class Cond(nn.Module):
        def forward(self, x, labels=None):
            seen.append(labels)
            return x.flatten(1).sum(1) + labels.float()

    labels = torch.tensor([0, 3])
    loss.critic_loss(Cond(), torch.randn(2, 1, 3), torch.randn(2, 1, 3), labels)
    assert all(s is not None for s in seen)
    assert seen[0].tolist() == [0, 3, 0, 3]  # real and fake scored in one batch, labels repeated


@pytest.mark.parametrize("cfg", [TrainConfig(loss="wgan-gp"), TrainConfig(loss="hinge")])
def test_one_critic_step_lowers_the_loss_on_a_separable_toy(cfg):
    torch.manual_seed(0)
    loss = build_loss(cfg)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(8, 1), nn.Flatten(0))
    real = torch.randn(16, 1, 8) * 0.1 + 1.0
    fake = torch.randn(16, 1, 8) * 0.1 - 1.0
    opt = torch.optim.SGD(critic.parameters(), lr=0.05)
    before, _ = loss.critic_loss(critic, real, fake)
    opt.zero_grad()
    before.backward()
    opt.step()
    after, _ = loss.critic_loss(critic, real, fake)
    assert after.item() < before.item()


def test_build_loss_picks_by_name():
    assert isinstance(build_loss(TrainConfig(loss="hinge")), Hinge)
    w = build_loss(TrainConfig(loss="wgan-gp", gp_weight=3.0))
    assert isinstance(w, WGANGP) and w.gp_weight == 3.0
    with pytest.raises(ValueError, match="train.loss"):
        build_loss(TrainConfig(loss="lsgan"))


def test_zero_centred_penalty_is_the_squared_input_gradient_norm():
    shape = random_shape()
    w = torch.randn(shape[1] * shape[2])
    r1 = zero_centred_penalty(Linear(w), torch.randn(shape))
    assert r1.item() == pytest.approx(float(w.norm() ** 2), rel=1e-5)  # ‖∇D‖² = ‖w‖², whatever x is


def test_zero_centred_penalty_reaches_the_critic_weights():
    critic = Linear(torch.full((4,), 2.0))
    zero_centred_penalty(critic, torch.randn(3, 1, 4)).backward()
    torch.testing.assert_close(critic.w.grad, torch.full((4,), 4.0))  # d‖w‖²/dw = 2w


@pytest.mark.parametrize("cls", [WGANGP, Hinge])
def test_r1_and_r2_add_half_gamma_times_penalty(cls):
    w = torch.tensor([1.0, -2.0])  # ‖∇D‖² = 5 everywhere
    real, fake = torch.randn(4, 1, 2), torch.randn(4, 1, 2)
    torch.manual_seed(0)
    plain, m0 = cls().critic_loss(Linear(w), real, fake)
    torch.manual_seed(0)
    pen, m = cls(r1_weight=2.0, r2_weight=0.4).critic_loss(Linear(w), real, fake)
    assert pen.item() == pytest.approx(plain.item() + 0.5 * (2.0 * 5 + 0.4 * 5), rel=1e-5)
    assert m["adv/r1"].item() == pytest.approx(5.0) and m["adv/r2"].item() == pytest.approx(5.0)
    assert m0["adv/r1"].item() == 0.0 and m0["adv/r2"].item() == 0.0  # logged at weight 0 too


def test_augment_reaches_real_and_fake_in_both_steps():
    seen = []

    def augment(x):
        seen.append(x.shape[0])
        return x + 100.0  # visible in the scores

    loss = Hinge(augment=augment)
    real, fake = torch.zeros(3, 1, 2), torch.zeros(3, 1, 2)
    _, m = loss.critic_loss(Identity2(), real, fake)
    assert seen == [6]  # one call over cat([real, fake])
    assert m["adv/wasserstein"].item() == 0.0
    g_loss, _ = loss.generator_loss(Identity2(), fake)
    assert seen == [6, 3] and g_loss.item() == pytest.approx(-200.0)  # D sums 2 values of 100


class Identity2(nn.Module):
    def forward(self, x, labels=None):
        return x.flatten(1).sum(1)


def test_build_loss_passes_penalties_and_augment():
    loss = build_loss(TrainConfig(loss="hinge", r1_weight=3.0, augment=["time", "cutout"]))
    assert loss.r1_weight == 3.0 and loss.r2_weight == 0.0 and loss.augment is not None
    assert build_loss(TrainConfig()).augment is None
    with pytest.raises(ValueError, match="unknown policies \\['zoom'\\]"):
        build_loss(TrainConfig(augment=["zoom"]))
