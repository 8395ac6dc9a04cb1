/** {@code moescope doctor}: checks that the native stack loads offline and computes correctly on this machine. */
package dev.moescope.cli.doctor;
