"""Edge-case backdoor: inputs from the tail of the distribution, labelled as another class."""

from __future__ import annotations

from torch import Tensor

from bench.attacks.backdoor import Backdoor, BackdoorError, as_images
from bench.registry import attacks


@attacks.register("edgecase", tags={"data", "backdoor"})
class EdgeCase(Backdoor):
    """Edge-case backdoor (Wang, Sreenivasan, Rajput, Vishwakarma, Agarwal, Sohn, Lee &
    Papailiopoulos, "Attack of the tails: Yes, you really can backdoor federated learning",
    NeurIPS 2020): the attacker trains on rare inputs of a ``source`` class labelled
    ``target`` (their MNIST task: ARDIS 7s labelled 1), mixed with its clean data; no trigger
    is added to ordinary inputs, so honest clients never see a conflicting example.

    byzbench's image sets have no separate tail set such as ARDIS, so the tail is synthesised:
    the edge-case inputs are the left-right mirror images ``x[..., ::-1]`` of ``source``-class
    digits, which never occur in the honest data.  Each Byzantine client replaces the
    ``source`` samples of its batch by their mirror images labelled ``target``; the triggered
    test set is the mirrored ``source``-class test digits, labelled ``target``.
    """

    name = "edgecase"

    def __init__(self, source: int = 7, target: int = 1) -> None:
        super().__init__(target)
        if isinstance(source, bool) or not isinstance(source, int) or source < 0:
            raise BackdoorError(f"{self.name}: source must be a class index >= 0, got "
                                f"{source!r}")
        if source == target:
            raise BackdoorError(f"{self.name}: source and target are both class {source}")
        self.source = source

    def check_classes(self, num_classes: int) -> None:
        super().check_classes(num_classes)
        if self.source >= num_classes:
            raise BackdoorError(
                f"{self.name}: source={self.source} is not a class of a {num_classes}-class "
                "task")

    @staticmethod
    def mirror(x: Tensor, lead: int) -> Tensor:
        """Left-right mirror image of every input of ``x = [*lead dims, *input]``."""
        return as_images(x, lead).flip(-1).reshape(x.shape)

    def poison_batch(self, x: Tensor, y: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
        self.check_classes(num_classes)
        chosen = y == self.source
        out, labels = x.clone(), y.clone()
        out[chosen] = self.mirror(x, 2)[chosen]
        labels[chosen] = self.target
        return out, labels

    def trigger_test_inputs(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        chosen = y == self.source
        return self.mirror(x[chosen], 1), y[chosen]
