"""`hwbench port`: what moving a model to Ascend involves, found on any machine.

The way through: `record` runs the workload's forward once on the CPU and keeps every aten
call (with the calls each composite one decomposes into); `oplist` reads the operator list a
torch_npu wheel ships (`sources` finds it, never importing torch_npu); `classify` judges each
call native, composite or CPU fallback against it; `fused` names the torch_npu fused operators
that replace the model's patterns; `dtype_notes` says what each Ascend generation does to the
dtype; `document` is the saved result. oplist and sources import neither torch nor torch_npu.
"""
