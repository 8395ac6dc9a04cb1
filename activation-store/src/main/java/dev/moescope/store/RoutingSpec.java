package dev.moescope.store;

import dev.moescope.core.error.Require;

import java.util.List;

/**
 * Routing recorded for one MoE layer: per token the {@code topK} chosen expert ids (best first) and their gate
 * weights. Full router logits, when wanted, are an ordinary hook named {@code blocks.<layer>.router_logits} of
 * width {@code experts}.
 *
 * @param layer   block index
 * @param topK    experts chosen per token
 * @param experts experts in the layer (ids are in {@code [0, experts)})
 */
public record RoutingSpec(int layer, int topK, int experts) {

    public RoutingSpec {
        Require.nonNegative("routing layer", layer);
        Require.positive("top-k of layer " + layer, topK);
        Require.positive("experts of layer " + layer, experts);
        Require.that(topK <= experts, "top-k of layer " + layer, "at most the number of experts (" + experts + ")", topK);
    }

    /** Name of this layer's routing file inside a shard. */
    public String fileName() {
        return "routing.blocks." + layer + ".arrow";
    }

    /** The hook name under which this layer's full router logits are stored, if recorded. */
    public String routerLogitsHook() {
        return HookName.of(layer, HookName.ROUTER_LOGITS);
    }

    /** The routing of {@code layer} in {@code routing}, or null. */
    public static RoutingSpec find(List<RoutingSpec> routing, int layer) {
        for (RoutingSpec r : routing) {
            if (r.layer() == layer) {
                return r;
            }
        }
        return null;
    }
}
