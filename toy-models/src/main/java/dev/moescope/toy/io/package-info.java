/** Saving and loading trained toy models: the safetensors format (header JSON + raw little-endian float32). */
package dev.moescope.toy.io;
