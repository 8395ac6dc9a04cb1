package dev.moescope.sae.eval;

/**
 * Reconstruction metrics of one encoding mode over a validation set (raw activation units).
 *
 * @param tokens                  validation tokens
 * @param fvePooled               {@code 1 − Σ‖x − x̂‖² / Σ‖x − x̄‖²} (SAELens {@code explained_variance})
 * @param fvePooledCentred        {@code 1 − Σ_d Var(x − x̂) / Σ_d Var(x)} (dictionary_learning)
 * @param fvePerToken             {@code mean_b (1 − ‖x_b − x̂_b‖² / ‖x_b − x̄‖²)} (legacy per-token variant)
 * @param mse                     mean over tokens and dimensions of {@code (x − x̂)²}
 * @param l0                      mean active latents per token
 * @param cosine                  mean cos(x, x̂)
 * @param normRatio               mean ‖x̂‖/‖x‖
 * @param relativeReconstructionBias {@code E‖x̂‖² / E⟨x, x̂⟩}
 */
public record Metrics(long tokens, double fvePooled, double fvePooledCentred, double fvePerToken, double mse,
                      double l0, double cosine, double normRatio, double relativeReconstructionBias) {
}
