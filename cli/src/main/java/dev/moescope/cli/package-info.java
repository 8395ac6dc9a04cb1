/**
 * The {@code moescope} command line: one picocli command class per verb, grouped by capability
 * ({@code toy}, {@code probe}, {@code store}, {@code sae}, {@code crosscoder}, {@code demo}, {@code bench}), with
 * shared options in the {@link dev.moescope.cli.CommonOptions} mixin. Command classes only translate options
 * into the modules' config records and print results; the work lives in the modules.
 */
package dev.moescope.cli;
