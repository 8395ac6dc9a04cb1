/**
 * Small file formats other tools read, written once for every module: safetensors (models, dictionaries and
 * checkpoints that load with {@code safetensors.torch.load_file}).
 */
package dev.moescope.core.io;
