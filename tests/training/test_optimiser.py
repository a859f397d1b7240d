import pytest
import torch
from torch import nn

from pinsage.training.optimiser import RowwiseSparseAdam, TrainingOptimiser, embedding_tables


class Lookup(nn.Module):
    """An ID table and a word bag beside a dense layer: the shape of PinSage's projector."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.ids = nn.Embedding(50, 4)
        self.words = nn.EmbeddingBag(30, 4, mode="mean", padding_idx=0)
        self.dense = nn.Linear(4, 1)

    def forward(self, items, words):
        return self.dense(self.ids(items) + self.words(words)).sum()


def one_step(sparse: bool, items, words) -> tuple[Lookup, torch.Tensor]:
    model = Lookup()
    optimiser = TrainingOptimiser(model, lr=0.1, weight_decay=0.1, lr_factor=lambda s: 1.0, sparse=sparse)
    optimiser.zero_grad()
    model(items, words).backward()
    norm = optimiser.clip_gradients(0.01)
    optimiser.step()
    return model, norm


def test_a_sparse_step_changes_only_the_rows_the_batch_used():
    before = Lookup()
    items, words = torch.tensor([3, 3, 7]), torch.tensor([[0, 5, 5], [6, 0, 0], [5, 0, 0]])
    model, _ = one_step(True, items, words)
    assert embedding_tables(model) == [model.ids] and model.ids.sparse and not model.words.sparse
    changed = (model.ids.weight != before.ids.weight).any(1).nonzero().flatten().tolist()
    assert changed == [3, 7]
    # Dense AdamW with weight decay moves every row of the table, used or not.
    dense, _ = one_step(False, items, words)
    assert (dense.ids.weight != before.ids.weight).any(1).all()


def test_clipping_sparse_gradients_matches_torch_on_the_dense_ones():
    items, words = torch.tensor([3, 3, 7]), torch.tensor([[0, 5, 5], [6, 0, 0], [5, 0, 0]])
    reference = Lookup()
    reference(items, words).backward()
    expected = torch.nn.utils.clip_grad_norm_(reference.parameters(), 0.01)
    _, norm = one_step(True, items, words)  # a repeated row (item 3) is summed before the norm
    assert norm.item() == pytest.approx(expected.item(), rel=1e-5)


def test_state_round_trips_with_both_optimisers_and_their_schedules():
    model = Lookup()
    optimiser = TrainingOptimiser(model, lr=0.1, weight_decay=0.0, lr_factor=lambda s: 0.5**s, sparse=True)
    for _ in range(2):
        optimiser.zero_grad()
        model(torch.tensor([1]), torch.tensor([[2]])).backward()
        optimiser.step()
    state = optimiser.state_dict()
    again = TrainingOptimiser(Lookup(), lr=0.1, weight_decay=0.0, lr_factor=lambda s: 0.5**s, sparse=True)
    again.load_state_dict(state)
    assert [o.param_groups[0]["lr"] for o in again.optimisers] == pytest.approx([0.025, 0.025])
    assert len(again.optimisers) == 2


def test_rowwise_adam_is_sparse_adam_for_one_value_per_row_and_keeps_one_second_moment_per_row():
    """With one value per row, the row's mean squared gradient is that value's: the update must be
    SparseAdam's exactly, step after step, with repeated rows (summed) and rows left out (not decayed)."""
    steps = [torch.tensor([3, 3, 7]), torch.tensor([1, 7]), torch.tensor([3]), torch.tensor([0, 1, 2, 3])]

    def train(make_optimiser, width: int) -> tuple[nn.Embedding, torch.optim.Optimizer]:
        torch.manual_seed(0)
        table = nn.Embedding(10, width, sparse=True)
        optimiser = make_optimiser(table.parameters())
        for i, rows in enumerate(steps):
            optimiser.zero_grad()
            (table(rows) * torch.arange(1.0, width + 1) * (i + 1)).sum().backward()
            optimiser.step()
        return table, optimiser

    ours, _ = train(lambda p: RowwiseSparseAdam(p, lr=0.1), 1)
    theirs, _ = train(lambda p: torch.optim.SparseAdam(p, lr=0.1), 1)
    torch.testing.assert_close(ours.weight, theirs.weight, rtol=1e-6, atol=1e-7)
    wide, optimiser = train(lambda p: RowwiseSparseAdam(p, lr=0.1), 4)
    state = optimiser.state[wide.weight]
    assert state["exp_avg"].shape == (10, 4) and state["exp_avg_sq"].shape == (10,)
    untouched = [4, 5, 6, 8, 9]
    assert (state["exp_avg_sq"][untouched] == 0).all() and (state["exp_avg_sq"][[0, 1, 2, 3, 7]] > 0).all()
