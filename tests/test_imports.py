import importlib

from tests.import_all import module_names


def test_every_module_imports():
    names = module_names()
    assert len(names) > 20
    for name in names:
        importlib.import_module(name)
