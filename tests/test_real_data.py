"""tests/real_data.py: a missing dataset skips only where it is not
promised."""
import pytest

from tests import real_data


def test_missing_data_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setenv('CI', 'true')
    monkeypatch.setenv('MMRESIZE_DATA', str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match='absent'):
        real_data.require('camvid')


def test_missing_data_fails_where_mmresize_data_is_set(monkeypatch, tmp_path):
    monkeypatch.delenv('CI', raising=False)
    monkeypatch.setenv('MMRESIZE_DATA', str(tmp_path))
    with pytest.raises(pytest.fail.Exception, match='MMRESIZE_DATA'):
        real_data.require('bccd')


def test_missing_data_skips_on_a_developer_machine(monkeypatch, tmp_path):
    monkeypatch.delenv('CI', raising=False)
    monkeypatch.delenv('MMRESIZE_DATA', raising=False)
    monkeypatch.setattr(real_data, 'ROOT', str(tmp_path / 'checkout'))
    with pytest.raises(pytest.skip.Exception):
        real_data.require('camvid')


def test_present_data_is_returned(monkeypatch, tmp_path):
    (tmp_path / 'camvid').mkdir()
    monkeypatch.setenv('MMRESIZE_DATA', str(tmp_path))
    assert real_data.require('camvid') == str(tmp_path / 'camvid')
