"""`hwbench doctor`: the accelerator software stack checked as its vendors document it.

One module per device (cpu.py, cuda.py, npu.py; the NPU's parts in torch_npu.py, cann.py and
npu_smi.py), the engines' builds in engines.py, the vendors' version tables as data modules
(torch_npu_table.py, cuda_table.py). Every check reads the machine through a `Host`
(host.py), so tests run them against stand-ins.
"""
