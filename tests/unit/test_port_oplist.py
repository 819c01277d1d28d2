"""torch_npu's operator list read from a hand-made YAML, a wheel, the cache and an installed
distribution (never imported): the layout of torch-npu 2.13.0's
npu_native_functions_by_codegen.yaml, a few entries long."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hwbench.errors import UsageError
from hwbench.port import sources
from hwbench.port.oplist import OPLIST_PATH, NotAnOpList, parse

# Entries as 2.13.0 writes them: bare names, `func:` with a name or a whole schema, impl_ns.
OPLIST = """\
backend: NPU
cpp_namespace: at_npu::native
supported:
- view
- func: clone
  op_api: true
- func: add.Tensor(Tensor self, Tensor other, *, Scalar alpha=1) -> Tensor
  impl_ns: acl_op, op_api, dvm
- func: mm(Tensor self, Tensor mat2) -> Tensor
  impl_ns: acl_op, op_api
- func: gelu.out(Tensor self, *, str approximate='none', Tensor(a!) out) -> Tensor(a!)
  impl_ns: acl_op, op_api
custom:
- func: npu_rms_norm(Tensor self, Tensor gamma, float epsilon=1e-06) -> (Tensor, Tensor)
  impl_ns: op_api
symint:
- func: embedding(Tensor weight, Tensor indices, SymInt padding_idx=-1) -> Tensor
  impl_ns: acl_op, op_api
"""


def wheel(path: Path, text: str = OPLIST, version: str = "9.9.9") -> Path:
    """A zip laid out like a torch_npu wheel: the operator list and the dist-info METADATA."""
    with zipfile.ZipFile(path, "w") as made:
        made.writestr(OPLIST_PATH, text)
        made.writestr(
            f"torch_npu-{version}.dist-info/METADATA", f"Name: torch_npu\nVersion: {version}\n"
        )
    return path


def test_entries_keep_their_overload_and_kernel_paths():
    listed = parse(OPLIST, "9.9.9", "hand-made")
    assert listed.entry("add.Tensor").path == "acl_op/op_api/dvm"
    assert listed.entry("clone").path == "op_api"
    assert listed.entry("view").path == "torch_npu"  # no impl_ns: torch_npu's own
    assert listed.entry("embedding").section == "symint"
    assert listed.entry("add.Scalar") is None and listed.entry("gelu") is None
    assert listed.has_name("npu_rms_norm") and not listed.has_name("npu_swiglu")


@pytest.mark.parametrize(
    ("text", "why"),
    [("supported: [\n", "not YAML"), ("just: text\n", "no `supported:`"), ("- a\n", "no `sup")],
)
def test_text_that_is_not_an_operator_list_says_why(text, why):
    with pytest.raises(NotAnOpList, match=why):
        parse(text, "x", "x")


def test_a_wheel_gives_its_list_and_its_version(tmp_path):
    listed = sources.from_path(wheel(tmp_path / "torch_npu-9.9.9-cp311-cp311-any.whl"))
    assert listed.version == "9.9.9" and listed.entry("mm").path == "acl_op/op_api"


def test_the_yaml_itself_is_read_with_an_unknown_version(tmp_path):
    path = tmp_path / "ops.yaml"
    path.write_text(OPLIST)
    assert sources.from_path(path).version == "unknown"


def test_a_file_that_is_neither_wheel_nor_yaml_is_a_usage_error(tmp_path):
    (tmp_path / "notes.txt").write_text("key: [unclosed\n")
    (tmp_path / "other.whl").write_bytes(b"")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as other:
        other.writestr("README", "hello")
    with pytest.raises(UsageError, match="neither a torch_npu wheel nor its operator YAML"):
        sources.from_path(tmp_path / "notes.txt")
    with pytest.raises(UsageError, match="is not a torch_npu wheel"):
        sources.from_path(tmp_path / "other.zip")
    with pytest.raises(UsageError, match="No such file"):
        sources.from_path(tmp_path / "missing.whl")


def test_a_cached_wheel_is_found_by_version_and_a_missing_one_names_pip_download(tmp_path):
    wheel(tmp_path / "torch_npu-9.9.9-cp311-cp311-manylinux_2_28_x86_64.whl")
    assert sources.cached("9.9.9", tmp_path).version == "9.9.9"
    with pytest.raises(UsageError) as missing:
        sources.cached("9.9.8", tmp_path)
    assert f"pip download torch-npu==9.9.8 --no-deps -d {tmp_path}" in str(missing.value)
    with pytest.raises(UsageError, match="is not a version"):
        sources.cached("../9.9.9", tmp_path)


def installed_torch_npu(site: Path, version: str, oplist: str = OPLIST) -> Path:
    """A site folder holding torch_npu `version` as pip installs it: its metadata and its
    operator list."""
    info = site / f"torch_npu-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Name: torch_npu\nVersion: {version}\n")
    (site / OPLIST_PATH).parent.mkdir(parents=True)
    (site / OPLIST_PATH).write_text(oplist)
    return site


def test_an_installed_torch_npu_is_read_from_its_files_not_imported(tmp_path, monkeypatch):
    site = installed_torch_npu(tmp_path / "site", "9.9.7")
    (site / "torch_npu" / "__init__.py").write_text("raise ImportError('needs CANN')\n")
    monkeypatch.syspath_prepend(str(site))
    listed = sources.installed()
    assert listed is not None and listed.version == "9.9.7" and listed.has_name("npu_rms_norm")


def test_without_torch_npu_there_is_no_installed_list(monkeypatch):
    monkeypatch.setattr(sources, "DISTRIBUTION", "hwbench-no-such-distribution")
    assert sources.installed() is None
