/** {@code moescope store}: Inspect, verify and export Arrow activation stores. */
package dev.moescope.cli.store;
