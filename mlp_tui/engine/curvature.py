"""Sharpness: the top eigenvalue of the full-batch training loss's Hessian at given weights.

Full-batch gradient descent at learning rate lr is stable only while the sharpness stays below
2/lr (Cohen et al. 2021, edge of stability); a run that starts above it is thrown out of its basin
and lands somewhere flatter (Lewkowycz et al. 2020, the catapult). The eigenvalue is found by
Lanczos iteration on Hessian-vector products (double backward through a fresh forward pass: the
training step's graph is never touched, so the run's numbers stay bit-identical), with full
reorthogonalization, warm-started from the previous reading's vector. It stops when the top Ritz
pair's residual ||Hv - θv|| is below `TOL` times |θ|: θ is then within that residual of an
eigenvalue (Bauer-Fike), in practice much closer (the error falls with the residual's square).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

TOL = 1e-3  # relative residual of the top Ritz pair at which a reading stops
MAX_ITER = 80  # Lanczos steps at most (each one Hessian-vector product)
# A warm start is the previous top vector plus this share of noise: the Krylov space then still
# reaches a new top direction when the old one stops being the top.
WARM_NOISE = 0.1


@dataclass(frozen=True)
class Reading:
    """One sharpness reading: the eigenvalue, its unit vector (the next reading's start) and the
    Hessian-vector products it took."""

    value: float
    vector: torch.Tensor
    products: int


def hvp_of(loss_of: Callable[[list[torch.Tensor]], torch.Tensor],
           params: Sequence[torch.Tensor]) -> tuple[Callable[[torch.Tensor], torch.Tensor], int]:
    """A function v -> H v on flat float64 vectors, for the Hessian of `loss_of` at `params`
    (copied: the caller's tensors and their gradients are left alone), and the parameter count."""
    import torch

    ps = [p.detach().clone().requires_grad_() for p in params]
    with torch.enable_grad():
        grads = torch.autograd.grad(loss_of(ps), ps, create_graph=True)
    sizes = [p.numel() for p in ps]

    def hvp(v: torch.Tensor) -> torch.Tensor:
        parts = [c.view_as(p).to(p.dtype) for c, p in zip(v.split(sizes), ps)]
        hv = torch.autograd.grad(grads, ps, grad_outputs=parts, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv]).double()

    return hvp, sum(sizes)


def lanczos_top(hvp: Callable[[torch.Tensor], torch.Tensor], n: int,
                start: torch.Tensor | None = None, tol: float = TOL,
                max_iter: int = MAX_ITER, seed: int = 0) -> Reading:
    """The largest eigenvalue of the symmetric operator `hvp` on R^n. The random start comes
    from a generator of its own, never torch's global one (workers share that)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, generator=gen, dtype=torch.float64)
    if start is not None and start.numel() == n:
        noise = start.double() / start.norm() + WARM_NOISE * noise / noise.norm()
    q = noise / noise.norm()
    basis, alphas, betas = [q], [], []
    theta, top = 0.0, q
    for k in range(min(max_iter, n)):
        w = hvp(q)
        alphas.append(float(w @ q))
        q_all = torch.stack(basis)
        for _ in range(2):  # full reorthogonalization, twice (Kahan's "twice is enough")
            w = w - q_all.t() @ (q_all @ w)
        beta = float(w.norm())
        t = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        if betas:
            off = torch.tensor(betas, dtype=torch.float64)
            t += torch.diag(off, 1) + torch.diag(off, -1)
        vals, vecs = torch.linalg.eigh(t)
        theta, s = float(vals[-1]), vecs[:, -1]
        top = q_all.t() @ s
        if beta * abs(float(s[-1])) <= tol * max(abs(theta), 1e-12) or beta < 1e-12:
            return Reading(theta, top / top.norm(), k + 1)
        betas.append(beta)
        q = w / beta
        basis.append(q)
    return Reading(theta, top / top.norm(), min(max_iter, n))


def sharpness(loss_of: Callable[[list[torch.Tensor]], torch.Tensor],
              params: Sequence[torch.Tensor], start: torch.Tensor | None = None,
              tol: float = TOL) -> Reading:
    """The top Hessian eigenvalue of `loss_of` (the full-batch training loss as a function of
    the parameters) at `params`."""
    hvp, n = hvp_of(loss_of, params)
    return lanczos_top(hvp, n, start, tol)


def model_loss(model, loss, x: torch.Tensor, y: torch.Tensor):
    """`loss_of(params)` of an `nn.Module` (its parameters in order) on the data (x, y)."""
    from torch.func import functional_call

    names = [name for name, _ in model.named_parameters()]

    def loss_of(ps: list[torch.Tensor]) -> torch.Tensor:
        return loss(functional_call(model, dict(zip(names, ps)), (x,)), y)

    return loss_of


def stacked_loss(loss, x: torch.Tensor, y: torch.Tensor):
    """`loss_of(params)` of one seed of a stack: params are (weight, bias column) per layer, as
    `StackedTrainer` holds them, ReLU between layers."""
    import torch.nn.functional as F

    def loss_of(ps: list[torch.Tensor]) -> torch.Tensor:
        h, last = x, len(ps) // 2 - 1
        for i in range(last + 1):
            h = F.linear(h, ps[2 * i], ps[2 * i + 1].squeeze(1))
            if i < last:
                h = h.relu()
        return loss(h, y)

    return loss_of


def exact_top(loss_of: Callable[[list[torch.Tensor]], torch.Tensor],
              params: Sequence[torch.Tensor]) -> float:
    """The top eigenvalue from the full Hessian (`torch.func.hessian`, `eigvalsh`): the
    reference a reading is checked against, for small models only (n^2 memory)."""
    import torch
    from torch.func import hessian

    ps = [p.detach().clone() for p in params]
    sizes = [p.numel() for p in ps]
    flat = torch.cat([p.reshape(-1) for p in ps])

    def of_flat(f: torch.Tensor) -> torch.Tensor:
        return loss_of([c.view_as(p) for c, p in zip(f.split(sizes), ps)])

    h = hessian(of_flat)(flat).double()
    return float(torch.linalg.eigvalsh((h + h.t()) / 2)[-1])
