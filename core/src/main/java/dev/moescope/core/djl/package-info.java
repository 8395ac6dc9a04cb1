/**
 * DJL set-up and the one training-step pattern every module uses.
 *
 * <p>Two facts about DJL's PyTorch engine shape this package: an op's result belongs to the manager of its first
 * operand, so a step that is not run inside an {@link ai.djl.ndarray.NDScope} leaks native arrays into the
 * parameters' manager; and optimizer state created inside a scope is freed with it. {@link ScopedTrainer} runs
 * forward and backward inside a scope and the optimizer update outside it, once, for all modules.
 */
package dev.moescope.core.djl;
