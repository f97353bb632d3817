import numpy as np
import pytest

from geo.crs import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)

# Reference values from prcoords, an independent implementation.
KNOWN_GCJ = [
    ((120.151, 30.251), (120.15570422325148, 30.248676335255123)),
    ((120.155, 30.253), (120.15969299313245, 30.250669517162937)),
]
KNOWN_BD = [((120.15, 30.25), (120.16123667272697, 30.253591930019454))]


@pytest.mark.parametrize(("wgs", "gcj"), KNOWN_GCJ)
def test_gcj02_forward_and_inverse(wgs, gcj):
    lng, lat = wgs84_to_gcj02(np.array([wgs[0]]), np.array([wgs[1]]))
    assert lng[0] == pytest.approx(gcj[0], abs=1e-9) and lat[0] == pytest.approx(gcj[1], abs=1e-9)
    back = gcj02_to_wgs84(np.array([gcj[0]]), np.array([gcj[1]]))
    assert back[0][0] == pytest.approx(wgs[0], abs=1e-8) and back[1][0] == pytest.approx(wgs[1], abs=1e-8)


@pytest.mark.parametrize(("wgs", "bd"), KNOWN_BD)
def test_bd09_forward_and_inverse(wgs, bd):
    lng, lat = wgs84_to_bd09(np.array([wgs[0]]), np.array([wgs[1]]))
    assert lng[0] == pytest.approx(bd[0], abs=1e-8) and lat[0] == pytest.approx(bd[1], abs=1e-8)
    back = bd09_to_wgs84(lng, lat)
    assert back[0][0] == pytest.approx(wgs[0], abs=1e-7) and back[1][0] == pytest.approx(wgs[1], abs=1e-7)


def test_gcj02_round_trip_is_sub_centimetre_across_china():
    rng = np.random.default_rng(3)
    lng, lat = rng.uniform(75, 134, 10_000), rng.uniform(19, 53, 10_000)
    back_lng, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
    assert np.abs(back_lng - lng).max() < 1e-7 and np.abs(back_lat - lat).max() < 1e-7


def test_no_offset_outside_china():
    lng, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert (lng[0], lat[0]) == (2.35, 48.85)


def test_parse_crs_accepts_epsg_and_chinese_systems():
    assert parse_crs("gcj02") == "gcj02"
    assert parse_crs("BD-09") == "bd09"
    assert parse_crs("EPSG:4490").to_epsg() == 4490


def test_unknown_crs_names_the_accepted_forms():
    with pytest.raises(ValueError, match="EPSG:4490 .CGCS2000.*gcj02"):
        parse_crs("EPSG:999999")


def test_gauss_kruger_to_wgs84():
    # CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549): the central meridian maps to x = 500 km.
    lng, lat = to_wgs84(np.array([500_000.0]), np.array([3_347_000.0]), parse_crs("EPSG:4549"))
    assert lng[0] == pytest.approx(120.0, abs=1e-6)
    assert 30.0 < lat[0] < 30.5
