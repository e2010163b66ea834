"""The backdoor contract: poisoned training batches and the triggered test set.

A backdoor is a data attack (tag ``backdoor``): each Byzantine client rewrites part of its own
minibatch with :meth:`Backdoor.poison_batch` (a trigger stamped on the inputs, the labels set to
the attacker's ``target`` class) and then runs the honest protocol on it; some backdoors also
change the resulting update in :meth:`~bench.attacks.base.Attack.forge` (scaling, a band).

Its success is measured on :meth:`Backdoor.triggered_test`: the test inputs whose true class is
not the target, with the trigger applied, labelled with the target.  The *attack success rate*
(ASR) is the fraction of them the server model classifies as the target (Gu et al., "BadNets",
2017; Bagdasaryan et al., AISTATS 2020; Xie et al., ICLR 2020).

Triggers act on images ``[C, H, W]``; flat inputs of ``D = s^2`` features (scikit-learn's
digits) are read as one ``s x s`` channel.  Pixel values are in the model's (normalised) input
units.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from bench.attacks.base import Attack


class BackdoorError(ValueError):
    """A backdoor parameter that does not fit the data (target class, image size)."""


def as_images(x: Tensor, lead: int) -> Tensor:
    """View ``x = [*lead dims, *input_shape]`` as ``[*lead dims, C, H, W]``.

    ``input_shape`` is ``(C, H, W)``, or ``(D,)`` with ``D = s^2`` read as ``(1, s, s)``.
    """
    shape = tuple(x.shape[lead:])
    if len(shape) == 3:
        return x
    if len(shape) == 1 and math.isqrt(shape[0]) ** 2 == shape[0]:
        side = math.isqrt(shape[0])
        return x.view(*x.shape[:lead], 1, side, side)
    raise BackdoorError(
        f"backdoor triggers need image inputs: input shape {shape} is neither (C, H, W) nor a "
        "flattened square image")


class Backdoor(Attack):
    """Base of the backdoor attacks: relabel to ``target`` the inputs that carry the trigger.

    Subclasses implement :meth:`poison_batch` (training side) and :meth:`trigger_test_inputs`
    (the test-time trigger applied to non-target inputs).
    """

    acts_on_data = True

    def __init__(self, target: int = 0) -> None:
        super().__init__()
        if isinstance(target, bool) or not isinstance(target, int) or target < 0:
            raise BackdoorError(f"{self.name}: target must be a class index >= 0, got {target!r}")
        self.target = target

    def check_classes(self, num_classes: int) -> None:
        if self.target >= num_classes:
            raise BackdoorError(
                f"{self.name}: target={self.target} is not a class of a {num_classes}-class task")

    def poison_batch(self, x: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
        """The Byzantine clients' batches ``x = [m, B, *input]``, ``y = [m, B]`` as they train
        on them (row ``r`` is the ``r``-th participating Byzantine client)."""
        raise NotImplementedError

    def trigger_test_inputs(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        """The test inputs ``x = [N, *input]`` (true labels ``y``) the trigger applies to, with
        the trigger applied; returns ``(inputs, their true labels)``."""
        raise NotImplementedError

    def triggered_test(self, x: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
        """Triggered test inputs whose true class is not ``target``, all labelled ``target``:
        the ASR is the accuracy on them."""
        self.check_classes(num_classes)
        triggered, true = self.trigger_test_inputs(x, y)
        keep = true != self.target
        if not bool(keep.any()):
            raise BackdoorError(f"{self.name}: no non-target test input carries the trigger")
        inputs = triggered[keep]
        return inputs, torch.full((inputs.shape[0],), self.target, dtype=y.dtype,
                                  device=y.device)


class PixelBackdoor(Backdoor):
    """A backdoor whose trigger sets fixed pixels to ``value`` in every channel.

    In each Byzantine client's batch the first ``k = ceil(fraction * B)`` samples (batches are
    drawn at random, so these are a random ``fraction``) get the client's trigger pixels set to
    ``value`` and the label ``target``; the rest stay clean.  At test time the full trigger
    (:meth:`trigger_mask`) is applied.  Subclasses give the mask; a client's own mask
    (:meth:`client_mask`) is the full one unless the trigger is split (DBA).
    """

    def __init__(self, target: int = 0, fraction: float = 0.5, value: float = 3.0) -> None:
        super().__init__(target)
        if not 0.0 < float(fraction) <= 1.0:
            raise BackdoorError(f"{self.name}: fraction must be in (0, 1], got {fraction!r}")
        if not math.isfinite(float(value)):
            raise BackdoorError(f"{self.name}: value must be finite, got {value!r}")
        self.fraction, self.value = float(fraction), float(value)

    def trigger_mask(self, height: int, width: int) -> Tensor:
        """Boolean ``[H, W]``: the pixels of the full trigger."""
        raise NotImplementedError

    def client_mask(self, row: int, height: int, width: int) -> Tensor:
        """Boolean ``[H, W]``: the trigger pixels the ``row``-th Byzantine client stamps."""
        return self.trigger_mask(height, width)

    def stamp(self, images: Tensor, mask: Tensor) -> Tensor:
        """``images [..., C, H, W]`` with the ``mask`` pixels set to ``value`` (a copy)."""
        out = images.clone()
        out[..., mask.to(images.device)] = self.value
        return out

    def poison_batch(self, x: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
        self.check_classes(num_classes)
        images = as_images(x, 2)
        height, width = images.shape[-2:]
        k = math.ceil(self.fraction * y.shape[1])
        out = images.clone()
        for row in range(images.shape[0]):
            out[row, :k] = self.stamp(images[row, :k], self.client_mask(row, height, width))
        labels = y.clone()
        labels[:, :k] = self.target
        return out.view_as(x), labels

    def trigger_test_inputs(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        images = as_images(x, 1)
        stamped = self.stamp(images, self.trigger_mask(*images.shape[-2:]))
        return stamped.view_as(x), y


def check_fits(name: str, mask_rows: int, mask_cols: int, height: int, width: int) -> None:
    """A clear error when a trigger of ``mask_rows x mask_cols`` does not fit ``H x W``."""
    if mask_rows > height or mask_cols > width:
        raise BackdoorError(f"{name}: trigger of {mask_rows}x{mask_cols} pixels does not fit "
                            f"{height}x{width} images")
