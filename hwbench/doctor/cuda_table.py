"""The NVIDIA driver each CUDA version needs (Linux x86_64).

Source: NVIDIA CUDA Toolkit release notes, docs.nvidia.com/cuda/cuda-toolkit-release-notes
(the CUDA 13.2 Update 2 edition, read 2026-12-03): Table 3 "CUDA Toolkit and Corresponding
Driver Versions" (the GA rows: the driver each toolkit release shipped with) and Table 2 "CUDA
Toolkit and Minimum Required Driver Version for CUDA Minor Version Compatibility" (13.x:
>= 580, 12.x: >= 525, 11.x: >= 450; the footnote puts the 11.x floor at 450.80.02).
Under minor version compatibility a build for 12.8 runs on any driver from 12.0 GA's on, but
features that need the newer driver (and PTX compiled by a newer toolkit) do not.
"""

from __future__ import annotations

TABLE_SOURCE = "NVIDIA CUDA Toolkit release notes, Tables 2 and 3"

# CUDA major -> the oldest driver that runs it through minor version compatibility (Table 2,
# as the first driver of that branch released with the x.0 toolkit, Table 3)
MINOR_COMPAT_FLOOR = {13: "580.65.06", 12: "525.60.13", 11: "450.80.02"}

# CUDA major.minor -> the driver its GA toolkit shipped with (Table 3)
TOOLKIT_DRIVER = {
    "13.2": "595.45.04",
    "13.1": "590.44.01",
    "13.0": "580.65.06",
    "12.9": "575.51.03",
    "12.8": "570.26",
    "12.6": "560.28.03",
    "12.5": "555.42.02",
    "12.4": "550.54.14",
    "12.3": "545.23.06",
    "12.2": "535.54.03",
    "12.1": "530.30.02",
    "12.0": "525.60.13",
    "11.8": "520.61.05",
    "11.7": "515.43.04",
    "11.6": "510.39.01",
    "11.5": "495.29.05",
    "11.4": "470.42.01",
    "11.3": "465.19.01",
    "11.2": "460.27.03",
    "11.1": "455.23",
    "11.0": "450.51.05",
}
