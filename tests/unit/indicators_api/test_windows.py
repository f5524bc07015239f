"""`start`, `end` and `limit` choose the same bars on `/indicators` and `/features` as on `/ohlcv` (`limit`
counted from `start` when given, else from the newest bar), and the values of the chosen bars equal TA-Lib's
on the whole stored series (warm-up read before the window)."""

import numpy as np
import pytest
import talib

from tests.unit.indicators_api.conftest import PATH, Series, column

OHLCV = "/api/v1/market-data/ohlcv/BINANCE/BTCUSDT"
FEATURES = "/api/v1/features/BINANCE/BTCUSDT"


def _windows(series: Series) -> list[tuple[dict[str, int], slice]]:
    """Each window with the stored bars it holds (the README's rule of `GET /ohlcv`)."""
    start, end, last = int(series.time[1_000]), int(series.time[2_000]), len(series.time)
    return [
        ({"start": start, "limit": 4}, slice(1_000, 1_004)),  # start only: the 4 bars from start on
        ({"end": end, "limit": 4}, slice(1_997, 2_001)),  # end only: the newest 4 up to end
        ({"start": start, "end": end, "limit": 4}, slice(1_000, 1_004)),  # both: the 4 from start on
        ({"limit": 4}, slice(last - 4, last)),  # neither: the newest 4
        ({"start": start, "end": int(series.time[1_002]), "limit": 10}, slice(1_000, 1_003)),  # range < limit
    ]


@pytest.mark.parametrize("route", [PATH, FEATURES])
async def test_start_end_and_limit_choose_the_bars_the_ohlcv_route_chooses(api, stored, route):
    for window, held in _windows(stored):
        params = {"interval": "1m", **window}
        bars = (await api.get(OHLCV, params=params)).json()["bars"]
        response = await api.get(route, params=params)
        assert response.status_code == 200, response.text
        times = [row["timestamp"] for row in response.json()["rows"]]
        assert times == [bar["timestamp"] for bar in bars] == stored.time[held].tolist(), window


async def test_start_and_limit_give_the_bars_from_start_with_full_series_values(api, stored):
    for first in (5, 1_000):  # inside the warm-up of sma:20 (TA-Lib gives NaN too) and well after it
        params = {"interval": "1m", "indicators": "sma:20,rsi:14", "start": int(stored.time[first]), "limit": 4}
        rows = (await api.get(PATH, params=params)).json()["rows"]
        assert [row["timestamp"] for row in rows] == stored.time[first:first + 4].tolist()
        for name, want in (("sma_20", talib.SMA(stored.close, 20)), ("rsi_14", talib.RSI(stored.close, 14))):
            np.testing.assert_allclose(column(rows, name), want[first:first + 4], rtol=1e-9, err_msg=name)
