"""The project's hook naming convention for named ONNX outputs.

Per decoder layer ``L`` (0-based): ``blocks.L.router_logits`` [batch, sequence, experts] (pre-softmax, router bias
included where the router has one), ``blocks.L.moe_out`` [batch, sequence, hidden] (the MoE block's output,
routed plus shared experts, before the residual add), ``blocks.L.mlp_out`` (the same for a dense feed-forward
layer) and ``blocks.L.resid_post`` [batch, sequence, hidden] (the residual stream after the whole layer).
Plus ``logits`` [batch, sequence, vocab]. Inputs are ``input_ids`` and ``attention_mask`` (int64 [batch, sequence]).
"""

ROUTER_LOGITS = "router_logits"
MOE_OUT = "moe_out"
MLP_OUT = "mlp_out"
RESID_POST = "resid_post"
LOGITS = "logits"
INPUT_IDS = "input_ids"
ATTENTION_MASK = "attention_mask"

KINDS = (ROUTER_LOGITS, MOE_OUT, MLP_OUT, RESID_POST)


def hook_name(layer: int, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown hook kind {kind}; expected one of {KINDS}")
    if layer < 0:
        raise ValueError(f"layer must be >= 0, got {layer}")
    return f"blocks.{layer}.{kind}"


def layer_hooks(layer: int, is_moe: bool) -> list:
    """Hook names of one layer in output order: router logits (MoE only), block output, residual after."""
    if is_moe:
        return [hook_name(layer, ROUTER_LOGITS), hook_name(layer, MOE_OUT), hook_name(layer, RESID_POST)]
    return [hook_name(layer, MLP_OUT), hook_name(layer, RESID_POST)]
