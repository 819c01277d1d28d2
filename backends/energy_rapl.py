"""CPU energy from RAPL through Linux's powercap sysfs (Intel, and AMD since Linux 5.11).

Source: the kernel's Documentation/power/powercap/powercap.rst and
Documentation/ABI/testing/sysfs-class-powercap: each zone /sys/class/powercap/intel-rapl:N
(a package) and intel-rapl:N:M (its subzones: core, uncore, dram) has `name`, `energy_uj`
(the zone's energy counter in micro-joules) and `max_energy_range_uj` (the counter's range:
it wraps to 0 past it). Package and DRAM are summed: core and uncore are parts of the package;
`psys` (the whole platform) would count them twice and is left out. Since Linux 5.10
energy_uj is readable by root only (CVE-2020-8694). The counter updates about every 1 ms
(Intel SDM vol. 3B, "RAPL Interfaces", MSR_PKG_ENERGY_STATUS; the powercap docs give no rate).
"""

from __future__ import annotations

import threading
from pathlib import Path

from hwbench.backends.energy_meter import Energy, EnergyMeter

POWERCAP = Path("/sys/class/powercap")
DOMAINS = ("package", "dram")  # zone names kept, by prefix: package-0, package-1, dram
RESOLUTION_S = 0.001


def rapl_zones(root: Path) -> dict[str, Path]:
    """Zone name -> directory for the package and DRAM zones under `root` (a DRAM subzone is
    named after its package when there are several)."""
    zones: dict[str, Path] = {}
    for zone in sorted(root.glob("intel-rapl:*")):
        name_file = zone / "name"
        if not name_file.is_file():
            continue
        name = name_file.read_text().strip()
        if not name.startswith(DOMAINS):
            continue
        package = zone.name.split(":")[1]
        zones[f"{name}-{package}" if name == "dram" else name] = zone
    return zones


def _read_uj(path: Path) -> int:
    return int(path.read_text().strip())


class RaplMeter(EnergyMeter):
    """Package and DRAM energy counters, a wrap-around undone on each read; reads must come
    at least once per counter range (RAPL's range is minutes to hours at full power)."""

    resolution_s = RESOLUTION_S

    def __init__(self, zones: dict[str, Path], root: Path = POWERCAP) -> None:
        where = "" if root == POWERCAP else f" under {root}"  # a stand-in tree says so
        self.source = f"RAPL energy_uj (Linux powercap sysfs){where}"
        self._zones = zones
        self._range = {n: _read_uj(z / "max_energy_range_uj") for n, z in zones.items()}
        self._last = {n: _read_uj(z / "energy_uj") for n, z in zones.items()}
        self._total_uj = dict.fromkeys(zones, 0)
        self._lock = threading.Lock()

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(self._zones)

    def read(self) -> dict[str, float]:
        with self._lock:
            for name, zone in self._zones.items():
                now = _read_uj(zone / "energy_uj")
                step = now - self._last[name]
                if step < 0:  # wrapped past max_energy_range_uj
                    step += self._range[name]
                self._total_uj[name] += step
                self._last[name] = now
            return {name: uj / 1e6 for name, uj in self._total_uj.items()}

    def close(self) -> None:
        """Nothing held: each read opens and closes the files."""


def rapl_energy(root: Path = POWERCAP) -> Energy:
    """A RAPL meter on `root`'s package and DRAM zones, or None and why not."""
    if not root.is_dir():
        return None, f"no {root} (no powercap driver: RAPL is not exposed on this machine)"
    try:
        zones = rapl_zones(root)
        if not zones:
            return None, f"no RAPL package or dram zone under {root}"
        return RaplMeter(zones, root), ""
    except PermissionError as error:
        return None, f"{error.filename}: permission denied (root only since Linux 5.10)"
    except (OSError, ValueError) as error:
        return None, f"RAPL unreadable under {root}: {error}"
