/** The one exception type for problems a user can fix, and the exit codes it maps to. */
package dev.moescope.core.error;
