"""Series files: CSV or JSON lines of source,exchange,symbol,interval,n_bars, with the command's defaults."""

import pytest

from src.cli.errors import USAGE, UsageProblem
from src.cli.series import Defaults, SeriesSpec, read_series_file

DEFAULTS = Defaults(source="tradingview", n_bars=5_000)


def read(tmp_path, text):
    path = tmp_path / "series"
    path.write_text(text)
    return read_series_file(path, DEFAULTS)


def test_csv_lines_with_a_header_comments_and_blank_lines(tmp_path):
    assert read(tmp_path, "source,exchange,symbol,interval,n_bars\n\n# daily\nyahoo,NASDAQ,AAPL,1d,300\n") == [
        SeriesSpec("yahoo", "NASDAQ", "AAPL", "1d", 300)]


def test_empty_source_and_n_bars_take_the_commands_defaults(tmp_path):
    assert read(tmp_path, ",BINANCE,BTCUSDT,1m,\n,BINANCE,ETHUSDT,1h\n") == [
        SeriesSpec("tradingview", "BINANCE", "BTCUSDT", "1m", 5_000),
        SeriesSpec("tradingview", "BINANCE", "ETHUSDT", "1h", 5_000)]


def test_json_lines_and_csv_lines_mix(tmp_path):
    text = '{"exchange": "BINANCE", "symbol": "BTCUSDT", "interval": "4h", "n_bars": 10}\nbinance,BINANCE,X,1M,2\n'
    assert read(tmp_path, text) == [SeriesSpec("tradingview", "BINANCE", "BTCUSDT", "4h", 10),
                                    SeriesSpec("binance", "BINANCE", "X", "1M", 2)]


@pytest.mark.parametrize(("line", "says"), [
    ("tradingview,BINANCE,BTCUSDT,60,10", "60"),
    ("tradingview,BINANCE,BTCUSDT,1m,ten", "whole number"),
    ("tradingview,BINANCE,BTCUSDT,1m,0", "at least 1"),
    ("tradingview,BINANCE,BTCUSDT", "columns"),
    ('{"exchange": "BINANCE", "interval": "1m"}', "missing symbol"),
    ('{"exchange": "B", "symbol": "S", "interval": "1m", "bars": 3}', "unknown field bars"),
    ('{"exchange": ', "invalid JSON"),
    ("[1, 2]", "columns"),
])
def test_a_bad_line_is_a_usage_problem_naming_the_file_line_and_fault(tmp_path, line, says):
    with pytest.raises(UsageProblem) as caught:
        read(tmp_path, f"tradingview,BINANCE,ETHUSDT,1m,5\n{line}\n")
    assert caught.value.exit_code == USAGE
    assert "series:2: " in caught.value.message and says in caught.value.message


def test_a_file_naming_no_series_or_missing_is_a_usage_problem(tmp_path):
    with pytest.raises(UsageProblem, match="names no series"):
        read(tmp_path, "source,exchange,symbol,interval,n_bars\n# nothing\n")
    with pytest.raises(UsageProblem, match="cannot read"):
        read_series_file(tmp_path / "missing.csv", DEFAULTS)
