"""Metric measures of WGS84 geometries (sinusoidal projection: equal-area, lengths within ~0.5%)."""

from __future__ import annotations

import numpy as np
import shapely

EARTH_RADIUS_M = 6_371_008.8
_M_PER_DEG = EARTH_RADIUS_M * np.pi / 180.0


def to_metres(geoms: np.ndarray) -> np.ndarray:
    """Project lng/lat geometries to sinusoidal metres centred on the batch's median longitude."""

    def project(coords: np.ndarray) -> np.ndarray:
        central = np.median(coords[:, 0]) if len(coords) else 0.0
        return np.column_stack(
            [(coords[:, 0] - central) * np.cos(np.radians(coords[:, 1])) * _M_PER_DEG, coords[:, 1] * _M_PER_DEG]
        )

    return shapely.transform(geoms, project)


def area_m2(geoms: np.ndarray) -> np.ndarray:
    return shapely.area(to_metres(geoms))


def length_m(geoms: np.ndarray) -> np.ndarray:
    return shapely.length(to_metres(geoms))


def metres_to_degrees(dx_m: np.ndarray, dy_m: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets in metres at latitude ``lat`` as (dlng, dlat) degrees."""
    return dx_m / (_M_PER_DEG * np.cos(np.radians(lat))), dy_m / _M_PER_DEG
