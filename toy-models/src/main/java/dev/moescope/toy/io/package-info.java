/** Saving trained toy models as safetensors (through core's {@link dev.moescope.core.io.Safetensors}). */
package dev.moescope.toy.io;
