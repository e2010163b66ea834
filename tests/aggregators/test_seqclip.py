"""Sequential centered clipping: bucket after bucket, the reference moves; state and reset."""

from __future__ import annotations

import pytest
import torch

from bench.aggregators.seqclip import similarity_buckets
from bench.registry import RegistryError, aggregators

pytestmark = pytest.mark.uses("seqclip")


def test_hand_computed_sequence() -> None:
    # Buckets of one row each: v = 0 -> clip([4, 0]) = [1, 0] -> v = [1, 0]; the second
    # [4, 0] moves it by clip([3, 0]) = [1, 0] -> [2, 0], whatever the bucket order.
    rule = aggregators.make("seqclip", tau=1.0, size=1)
    torch.testing.assert_close(
        rule(torch.tensor([[4.0, 0.0], [4.0, 0.0]])), torch.tensor([2.0, 0.0])
    )
    # The reference carries over: round 2 from [2, 0] with [2, 5]: +[0, 1] -> [2, 1].
    torch.testing.assert_close(rule(torch.tensor([[2.0, 5.0]])), torch.tensor([2.0, 1.0]))
    rule.reset()
    torch.testing.assert_close(rule(torch.tensor([[2.0, 5.0]])), torch.tensor([2.0, 5.0]) / 29**0.5)


@pytest.mark.uses("cc")
def test_one_bucket_equals_cc() -> None:
    rows = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    out = aggregators.make("seqclip", tau=0.5, size=6)(rows)
    torch.testing.assert_close(out, aggregators.make("cc", tau=0.5)(rows))


def test_buckets_partition_the_rows_and_mix_similarity_levels() -> None:
    rows = torch.tensor([[float(i), 1.0] for i in range(-4, 5)])
    buckets = similarity_buckets(rows, torch.tensor([1.0, 0.0]), 3, torch.Generator())
    assert sorted(torch.cat(buckets).tolist()) == list(range(9))
    # Three groups of three by similarity; every bucket takes one row of each group.
    for bucket in buckets:
        assert sorted(int(i) // 3 for i in bucket) == [0, 1, 2]


def test_bad_size_is_refused() -> None:
    with pytest.raises(RegistryError, match="size"):
        aggregators.make("seqclip", size=0)
