import pytest
import torch

from pinsage.data.features import feature_sizes
from pinsage.evaluation.metrics import EvaluationQueries, evaluate
from pinsage.evaluation.scorers import EmbeddingScorer, PopularityScorer
from pinsage.graph.config import NeighbourConfig, PairConfig
from pinsage.graph.sampling import EpochSampler
from pinsage.jobs.train import TrainSettings, fit
from pinsage.model.inference import embed_all_items
from pinsage.model.pinsage import ModelConfig, PinSage
from pinsage.training.config import TrainConfig
from pinsage.training.loop import TrainingDiverged, learning_rate_factor, train_loop
from pinsage.training.loss import batch_loss
from pinsage.training.minibatch import MinibatchProducer
from tests.worlds import planted_world


def test_warmup_then_exponential_decay():
    values = [learning_rate_factor(s, warmup_steps=4, steps_per_epoch=4, decay=0.5) for s in range(12)]
    assert values[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert values[4] == pytest.approx(1.0)
    assert values[8] == pytest.approx(0.5)  # one epoch after warm-up
    assert values[10] == pytest.approx(0.5**1.5)


@pytest.fixture(scope="module")
def world():
    return planted_world(n_pins=600, n_boards=600, n_topics=30, saves_per_board=20, dense_dim=8, seed=7)


def make_sampler(world, config: TrainConfig):
    return EpochSampler(
        world.inputs.graph,
        NeighbourConfig(),
        PairConfig(),
        config.batches_per_epoch * config.batch_size,
        config.seed,
        (world.inputs.neighbourhoods["neighbours"], world.inputs.neighbourhoods["weights"]),
        interactions=world.train,
    )


def fresh_model(world, hidden_dim: int = 16) -> PinSage:
    torch.manual_seed(0)
    return PinSage(feature_sizes(world.inputs.features, world.inputs.vocabulary), ModelConfig(hidden_dim=hidden_dim))


@pytest.mark.parametrize("loss", ["softmax", "max_margin"])
def test_both_losses_decrease(world, loss):
    config = TrainConfig(epochs=1, batches_per_epoch=60, batch_size=64, num_negatives=50, loss=loss, seed=1)
    model = fresh_model(world)
    producer = MinibatchProducer(make_sampler(world, config)(0), world.inputs.features, config, n_layers=2, epoch=0)
    first = batch_loss(model, producer[0], config).item()
    train_loop(model, world.inputs.features, make_sampler(world, config), config)
    model.train()
    assert batch_loss(model, producer[0], config).item() < first


def test_minibatches_do_not_depend_on_worker_count(world):
    config = TrainConfig(batches_per_epoch=4, batch_size=32, num_negatives=20, seed=5)
    producer = MinibatchProducer(make_sampler(world, config)(0), world.inputs.features, config, n_layers=2, epoch=0)
    inline = [producer[i] for i in range(len(producer))]
    loader = torch.utils.data.DataLoader(producer, batch_size=None, num_workers=2)
    for a, b in zip(inline, loader, strict=True):
        assert torch.equal(a.negative_items, b.negative_items)
        assert torch.equal(a.blocks.input_items, b.blocks.input_items)


def test_pinsage_learns_planted_topics_and_beats_popularity(world):
    """The learning test, through the one training entry point: on a world with planted topics, trained
    PinSage must clearly beat popularity. Seeds are fixed; the margin (3x) is far from what the run
    reaches, not tuned to pass."""
    settings = TrainSettings(
        model=ModelConfig(hidden_dim=32),
        training=TrainConfig(epochs=4, batches_per_epoch=60, batch_size=128, num_negatives=200, seed=0),
    )
    result = fit(world.inputs, settings)
    n_users, n_items = len(world.users), len(world.held.catalogue)
    test = EvaluationQueries(world.train, world.test, n_users, n_items)
    embeddings = embed_all_items(
        result.trained_with.build_network(result.state_dict, world.inputs.vocabulary),
        world.inputs.features,
        world.inputs.neighbourhoods["neighbours"],
        world.inputs.neighbourhoods["weights"],
    )
    pinsage = evaluate(EmbeddingScorer(embeddings), test, k=10)["hits@10"]
    popularity = evaluate(PopularityScorer(world.train, n_items), test, k=10)["hits@10"]
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    assert "val_hits@10" in result.history[0] and result.best_epoch >= 1
    print(f"learning test: PinSage HITS@10 {pinsage:.3f}, popularity {popularity:.3f}")
    assert pinsage > 3 * popularity and pinsage > 0.15, (pinsage, popularity)


def test_evaluation_k_is_the_monitored_validation_metric(world):
    settings = TrainSettings(
        training=TrainConfig(epochs=1, batches_per_epoch=2, batch_size=32, num_negatives=10),
        evaluation={"k": 20},
    )
    history = fit(world.inputs, settings).history
    assert "val_hits@20" in history[0] and "val_hits@10" not in history[0]


def test_trained_with_records_what_rebuilds_the_network(world):
    settings = TrainSettings(
        model=ModelConfig(hidden_dim=8, n_layers=1),
        training=TrainConfig(epochs=1, batches_per_epoch=2, batch_size=32, num_negatives=10),
    )
    result = fit(world.inputs, settings)
    assert result.trained_with.model == settings.model and result.trained_with.features == settings.features
    network = result.trained_with.build_network(result.state_dict, world.inputs.vocabulary)  # no parameters needed
    assert network.config.hidden_dim == 8 and len(network.convs) == 1
    # The saved tensors themselves, not copies (at 10M items the ID table is 2.3 GB): nothing left unloaded.
    for name, tensor in network.state_dict().items():
        assert tensor.data_ptr() == result.state_dict[name].data_ptr() and not tensor.is_meta, name
    result.trained_with.check_vocabulary(world.inputs.vocabulary)
    with pytest.raises(ValueError, match="not the one these weights were trained with"):
        result.trained_with.check_vocabulary({**world.inputs.vocabulary, "words": ["other"]})


class Killed(Exception):
    pass


@pytest.fixture
def one_thread():
    """Multi-threaded CPU reductions may round differently under load (seen: 4e-9 in one weight while
    another process ran); with one thread every sum is in a fixed order."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_resume_after_a_kill_gives_the_uninterrupted_result(world, tmp_path, one_thread):
    config = TrainConfig(epochs=3, batches_per_epoch=8, batch_size=32, num_negatives=20, seed=3)
    whole = train_loop(fresh_model(world, 8), world.inputs.features, make_sampler(world, config), config)

    checkpointed = config.model_copy(update={"checkpoint_path": str(tmp_path / "ckpt.pt")})
    calls = []

    def kill_in_epoch_two(model):
        calls.append(1)
        if len(calls) == 2:
            raise Killed()
        return {}

    def run(fingerprint: str = "run", validate=lambda m: {}):
        return train_loop(
            fresh_model(world, 8),
            world.inputs.features,
            make_sampler(world, checkpointed),
            checkpointed,
            validate=validate,
            fingerprint=fingerprint,
        )

    with pytest.raises(Killed):
        run(validate=kill_in_epoch_two)
    # The best weights so far are a file beside the checkpoint, not a copy in memory.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.best-epoch-1.pt", "ckpt.pt"]
    resumed = run()
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3]
    for name, tensor in whole.state_dict.items():
        torch.testing.assert_close(resumed.state_dict[name], tensor, rtol=0, atol=0)
    best = tmp_path / f"ckpt.best-epoch-{resumed.best_epoch}.pt"
    assert sorted(tmp_path.iterdir()) == sorted([best, tmp_path / "ckpt.pt"])

    # A checkpoint whose best weights were deleted is refused before any training, naming the file.
    best.unlink()
    with pytest.raises(FileNotFoundError, match=f"{best}.*delete the checkpoint"):
        run()

    # Another run (other data or settings) never picks the checkpoint up.
    assert [h["epoch"] for h in run(fingerprint="other").history] == [1, 2, 3]


def test_a_warm_start_keeps_its_starting_weights_when_no_epoch_beats_them(world):
    config = TrainConfig(epochs=2, batches_per_epoch=4, batch_size=32, num_negatives=20, seed=0)
    model = fresh_model(world, 8)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    scores = iter([0.5, 0.4, 0.3])  # the start, then each epoch, worse
    result = train_loop(
        model,
        world.inputs.features,
        make_sampler(world, config),
        config,
        validate=lambda m: {"hits@10": next(scores)},
        start_is_candidate=True,
    )
    assert result.best_epoch == 0 and [h["epoch"] for h in result.history] == [1, 2]
    for name, tensor in start.items():
        torch.testing.assert_close(result.state_dict[name], tensor, rtol=0, atol=0)


def test_the_best_epochs_weights_are_returned_when_a_later_epoch_is_worse(world, one_thread):
    def train(epochs: int, scores: list[float]):
        config = TrainConfig(epochs=epochs, batches_per_epoch=4, batch_size=32, num_negatives=20, seed=0)
        validation = iter(scores)
        return train_loop(
            fresh_model(world, 8),
            world.inputs.features,
            make_sampler(world, config),
            config,
            validate=lambda m: {"hits@10": next(validation)},
        )

    worse_last, two_epochs = train(3, [0.1, 0.5, 0.3]), train(2, [0.1, 0.5])
    assert worse_last.best_epoch == two_epochs.best_epoch == 2
    for name, tensor in two_epochs.state_dict.items():
        torch.testing.assert_close(worse_last.state_dict[name], tensor, rtol=0, atol=0)


def test_a_non_finite_loss_stops_training_naming_the_batch_and_the_feature(world):
    features = {name: tensor.clone() for name, tensor in world.inputs.features.items()}
    features["dense"][:, 0] = float("inf")  # what one `inf` in a dense column used to become
    config = TrainConfig(epochs=1, batches_per_epoch=3, batch_size=32, num_negatives=10)
    with pytest.raises(
        TrainingDiverged, match=r"epoch 1, batch 1: the loss is nan.*non-finite values in feature 'dense'"
    ):
        train_loop(fresh_model(world, 8), features, make_sampler(world, config), config)


def test_the_id_only_baseline_trains_with_the_same_loss_and_has_no_content_inputs(world):
    """The ID-only baseline (no features, no convolutions) has nothing dense to update: only the sparse
    ID table learns, and its loss still falls."""
    settings = TrainSettings(
        model=ModelConfig(hidden_dim=16, n_layers=0, use_features=False),
        training=TrainConfig(epochs=2, batches_per_epoch=20, batch_size=64, num_negatives=50, seed=0),
    )
    result = fit(world.inputs, settings)
    assert set(result.state_dict) == {"projector.item_id.weight"}
    assert result.history[-1]["loss"] < result.history[0]["loss"]
    with pytest.raises(ValueError, match="nothing to embed an item from"):
        ModelConfig(use_features=False, use_id_embedding=False)
