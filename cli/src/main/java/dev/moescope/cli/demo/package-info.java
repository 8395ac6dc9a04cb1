/** {@code moescope demo}: the end-to-end run on the bundled fixtures. */
package dev.moescope.cli.demo;
