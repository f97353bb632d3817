"""Import every module of the project: `python -m tests.import_all` (CI runs it on each supported Python)."""

from __future__ import annotations

import importlib
import pkgutil
import sys

PACKAGES = ("geo", "pipelines", "dashboard")
PAGES_PREFIX = "dashboard.pages."


def module_names() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        names.append(package_name)
        names.extend(
            info.name
            for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}.")
            # a page calls dash.register_page, which needs an app: Dash imports pages itself (create_app)
            if not info.name.startswith(PAGES_PREFIX)
        )
    return sorted(names)


def main() -> int:
    names = module_names()
    for name in names:
        importlib.import_module(name)
    print(f"imported {len(names)} modules on Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
