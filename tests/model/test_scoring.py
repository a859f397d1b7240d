"""The served score's popularity prior, from the items' degree feature; and the serving settings a model
recorded before they existed reads as absent."""

import numpy as np
import pytest
import torch

from pinsage.model.pinsage import ModelConfig
from pinsage.model.scoring import ScoringConfig, popularity_prior
from pinsage.model.taste import TasteConfig
from pinsage.model.trained_with import TrainedWith
from tests.worlds import planted_world, trained_with


def test_the_prior_is_beta_times_log_one_plus_the_interactions():
    inputs = planted_world(n_pins=40, n_boards=30, n_topics=3, saves_per_board=5, seed=1).inputs
    degree = np.bincount(inputs.train_interactions["item"], minlength=len(inputs.catalogue))
    assert degree.max() > 1
    prior = popularity_prior(inputs.features["log_degree"], ScoringConfig(popularity_prior=0.01))
    assert prior.dtype == np.float32 and prior.shape == degree.shape
    np.testing.assert_allclose(prior, 0.01 * np.log1p(degree), rtol=1e-6)
    assert not popularity_prior(torch.ones(5, 1), ScoringConfig(popularity_prior=0.0)).any()


@pytest.mark.parametrize(
    ("section", "setting", "default"),
    [("taste", "weight", TasteConfig().weight), ("scoring", "popularity_prior", 0.0025)],
)
def test_a_model_recorded_before_a_serving_setting_existed_is_served_without_it(section, setting, default):
    """Its figures were measured without the users' taste / the popularity prior: it must be served so."""
    world = planted_world(n_pins=60, n_boards=50, n_topics=3, saves_per_board=6, seed=2)
    record = trained_with(world, ModelConfig(hidden_dim=8)).model_dump(mode="json")
    assert record[section] == {setting: default}
    del record[section]
    assert getattr(getattr(TrainedWith.model_validate(record), section), setting) == 0.0
