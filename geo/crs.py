"""Coordinate systems: WGS84, CGCS2000 and any EPSG code, plus GCJ-02 and BD-09.

GCJ-02 ("Mars coordinates", used by AMap/Tencent) and BD-09 (Baidu) are
obfuscations of WGS84 rather than EPSG systems; the forward formulas are
public, and the inverse is found by fixed-point iteration to well under a
centimetre.  Everything is vectorised over numpy arrays.
"""

from __future__ import annotations

import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

CHINA_LNG = (73.5, 135.1)
CHINA_LAT = (18.1, 53.6)

CUSTOM_CRS = ("gcj02", "bd09")


def in_china(lng: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Rough mainland-China box, inside which GCJ-02 applies its offset."""
    return (lng > CHINA_LNG[0]) & (lng < CHINA_LNG[1]) & (lat > CHINA_LAT[0]) & (lat < CHINA_LAT[1])


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = in_china(lng, lat)
    return np.where(inside, lng + dlng, lng), np.where(inside, lat + dlat, lat)


def gcj02_to_wgs84(lng: np.ndarray, lat: np.ndarray, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`wgs84_to_gcj02` by fixed-point iteration (error < 1 mm)."""
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    wlng, wlat = lng.copy(), lat.copy()
    for _ in range(iterations):
        glng, glat = wgs84_to_gcj02(wlng, wlat)
        wlng -= glng - lng
        wlat -= glat - lat
    return wlng, wlat


def gcj02_to_bd09(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lng: np.ndarray, lat: np.ndarray, iterations: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Invert :func:`gcj02_to_bd09`: the published closed form, refined by fixed-point iteration."""
    lng = np.asarray(lng, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    glng, glat = _bd09_to_gcj02_approx(lng, lat)
    for _ in range(iterations):
        blng, blat = gcj02_to_bd09(glng, glat)
        glng -= blng - lng
        glat -= blat - lat
    return glng, glat


def _bd09_to_gcj02_approx(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lng, dtype=np.float64) - 0.0065
    y = np.asarray(lat, dtype=np.float64) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_wgs84(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))


def wgs84_to_bd09(lng: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))


def parse_crs(text: str) -> str | CRS:
    """'gcj02', 'bd09' or a pyproj CRS; raises ValueError naming the accepted forms."""
    key = text.strip().lower().replace("-", "").replace("_", "")
    if key in CUSTOM_CRS:
        return key
    try:
        return CRS.from_user_input(text.strip())
    except CRSError as exc:
        raise ValueError(
            f"unknown coordinate system {text!r}: use an EPSG code such as EPSG:4326 (WGS84), "
            "EPSG:4490 (CGCS2000), EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger CM 114E), "
            "or gcj02 (AMap/Tencent) or bd09 (Baidu)"
        ) from exc


def to_wgs84(x: np.ndarray, y: np.ndarray, crs: str | CRS) -> tuple[np.ndarray, np.ndarray]:
    """Convert coordinates from ``crs`` (as returned by :func:`parse_crs`) to WGS84 lng/lat."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if crs == "gcj02":
        return gcj02_to_wgs84(x, y)
    if crs == "bd09":
        return bd09_to_wgs84(x, y)
    if crs.equals(CRS.from_epsg(4326)):
        return x, y
    transformer = Transformer.from_crs(crs, CRS.from_epsg(4326), always_xy=True)
    return transformer.transform(x, y)
