"""moescope_export: export Hugging Face MoE checkpoints to ONNX with router logits and hidden states as named
outputs (hook convention ``blocks.<L>.{router_logits,moe_out,mlp_out,resid_post}``), a verification against
PyTorch, a reference batch and a sidecar JSON describing the gating. Run ``python3 -m moescope_export --help``.
"""
