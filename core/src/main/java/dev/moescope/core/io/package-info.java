/**
 * Small file formats other tools read, written once for every module: safetensors (models, dictionaries and
 * checkpoints that load with {@code safetensors.torch.load_file}); and {@link dev.moescope.core.io.FileTrees} for
 * removing whole directory trees.
 */
package dev.moescope.core.io;
