/** Progress bars for long steps: a live bar on a terminal, periodic log lines otherwise, nothing when disabled. */
package dev.moescope.core.progress;
