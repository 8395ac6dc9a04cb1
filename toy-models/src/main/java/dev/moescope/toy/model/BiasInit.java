package dev.moescope.toy.model;

/** How the output bias b starts: zeros as in Anthropic's notebook, Xavier normal as in the MoE paper's code. */
public enum BiasInit {
    ZERO,
    XAVIER
}
