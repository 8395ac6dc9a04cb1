/** JSON reading and writing with one configured Gson, used for manifests, summaries and provenance. */
package dev.moescope.core.json;
