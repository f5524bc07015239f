"""Every quality threshold comes from its `QUALITY_<NAME>` setting; inconsistent spike windows stop the start."""

from dataclasses import fields

import pytest

from src.common.settings import SettingsError, load_settings
from src.domain.quality import QualityThresholds
from src.features.quality.slice import config_of, thresholds_of


def test_each_threshold_is_read_from_its_setting_and_the_defaults_agree_with_the_domains():
    assert thresholds_of(load_settings(_env_file=None)) == QualityThresholds()
    changed = {f"quality_{f.name}": getattr(QualityThresholds(), f.name) + 1 for f in fields(QualityThresholds)}
    thresholds = thresholds_of(load_settings(_env_file=None, **changed))
    assert all(getattr(thresholds, f.name) == changed[f"quality_{f.name}"] for f in fields(QualityThresholds))


def test_the_reconciliation_policy_and_the_bounds_are_settings():
    config = config_of(load_settings(_env_file=None, quality_reconcile_policy="replace_with_source",
                                     quality_history_size=7, quality_max_flags=9))
    assert (config.policy.value, config.history_size, config.max_flags) == ("replace_with_source", 7, 9)


def test_a_revert_window_longer_than_the_neighbourhood_is_refused_naming_it():
    with pytest.raises(SettingsError, match="quality_spike_revert_bars"):
        load_settings(_env_file=None, quality_spike_neighbours=2, quality_spike_revert_bars=3)
