import numpy as np
import pytest
import shapely

from geo.measure import area_m2, length_m, metres_to_degrees


def test_area_and_length_of_a_known_box():
    dlng, dlat = metres_to_degrees(np.array([1000.0]), np.array([1000.0]), np.array([30.0]))
    box = shapely.box(120.0, 30.0, 120.0 + dlng[0], 30.0 + dlat[0])
    assert area_m2(np.array([box]))[0] == pytest.approx(1_000_000, rel=0.005)
    line = shapely.LineString([(120.0, 30.0), (120.0, 30.0 + dlat[0])])
    assert length_m(np.array([line]))[0] == pytest.approx(1000, rel=0.001)
