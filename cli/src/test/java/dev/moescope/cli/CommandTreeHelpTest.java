package dev.moescope.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The UX conventions every command keeps, checked over picocli's whole command tree, so a new command cannot
 * forget them: help with an example that runs that very command, example lines that picocli's 80-column help
 * does not hard-wrap (a wrapped command line breaks copy and paste), the shared options with one meaning
 * everywhere, and a one-line usage error with exit code 2.
 */
class CommandTreeHelpTest {

    /** picocli's default help width: footer lines longer than this are hard-wrapped. */
    private static final int HELP_WIDTH = 80;

    /**
     * Leaves whose example still has a line wider than {@link #HELP_WIDTH}, to be fixed by their owners; the test
     * fails once one is fixed, so the fix also shrinks this set.
     */
    private static final Set<String> KNOWN_WRAPPED_EXAMPLES = Set.of();

    @Test
    void everyLeafCommandHasHelpWithAnExampleOfItself() {
        List<CommandLine> leaves = leaves();
        assertTrue(leaves.size() >= 20, "expected the whole tree, found " + leaves.size() + " leaves");
        for (CommandLine leaf : leaves) {
            String name = leaf.getCommandSpec().qualifiedName();
            String help = leaf.getUsageMessage();
            assertTrue(help.contains("\nExample"), name + " has no Example in its help:\n" + help);
            assertTrue(exampleLines(leaf.getCommandSpec()).stream().map(l -> l.strip().replaceFirst("^\\$ ", ""))
                            .anyMatch(l -> l.startsWith(name + " ") || l.equals(name)),
                    name + "'s example does not run " + name + ":\n" + help);
        }
    }

    @Test
    void everyExampleCommandLineParses() {
        List<String> bad = new ArrayList<>();
        int parsed = 0;
        for (CommandLine leaf : leaves()) {
            for (List<String> example : exampleCommands(leaf.getCommandSpec())) {
                try {
                    Moescope.commandLine().parseArgs(example.toArray(String[]::new));
                    parsed++;
                } catch (CommandLine.ParameterException e) {
                    bad.add(leaf.getCommandSpec().qualifiedName() + ": 'moescope " + String.join(" ", example) + "': "
                            + e.getMessage());
                }
            }
        }
        assertTrue(bad.isEmpty(), String.join("\n", bad));
        assertTrue(parsed >= leaves().size(), "parsed only " + parsed + " examples");
    }

    @Test
    void exampleLinesFitTheHelpWidth() {
        List<String> wrapped = new ArrayList<>();
        for (CommandLine leaf : leaves()) {
            String name = leaf.getCommandSpec().qualifiedName();
            boolean tooWide = exampleLines(leaf.getCommandSpec()).stream().anyMatch(l -> l.length() > HELP_WIDTH);
            if (tooWide != KNOWN_WRAPPED_EXAMPLES.contains(name)) {
                wrapped.add(name + (tooWide ? " has an example line wider than " + HELP_WIDTH
                        + " columns (break it with a trailing \\)" : " is fixed: remove it from KNOWN_WRAPPED_EXAMPLES"));
            }
        }
        assertTrue(wrapped.isEmpty(), String.join("\n", wrapped));
    }

    /**
     * An option's placeholder says what to type ({@code --steps=N}, {@code --out=DIR}), never picocli's default
     * {@code <fieldName>}, which leaks Java names like {@code <routerGradient>} into the help.
     */
    @Test
    void everyOptionValueHasANamedPlaceholder() {
        List<String> unnamed = new ArrayList<>();
        for (CommandLine leaf : leaves()) {
            for (OptionSpec o : leaf.getCommandSpec().options()) {
                if (o.arity().max() > 0 && o.paramLabel().startsWith("<")) {
                    unnamed.add(leaf.getCommandSpec().qualifiedName() + " " + o.longestName() + "=" + o.paramLabel());
                }
            }
        }
        assertTrue(unnamed.isEmpty(), "give these options a paramLabel:\n" + String.join("\n", unnamed));
    }

    /** A stray '%' in a description makes picocli print its text raw (with a warning on stderr); none may. */
    @Test
    void helpTextsFormatWithoutWarnings() {
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(err, true));
        try {
            leaves().forEach(CommandLine::getUsageMessage);
        } finally {
            System.setErr(saved);
        }
        assertEquals("", err.toString(), "picocli could not format a help text");
    }

    /** The longest one-line summary a parent's command list shows without wrapping it into a second line. */
    private static final int SUMMARY_WIDTH = 100;

    /**
     * A command's description is one array element per paragraph, because picocli wraps each element itself and
     * takes the first element as the one-line summary in the parent's command list: that first element is one
     * short complete sentence, and no element is a hard-wrapped piece of a sentence (ending mid-sentence, or
     * continuing one with a lowercase word).
     */
    @Test
    void everyCommandDescriptionIsWholeParagraphsUnderAOneSentenceSummary() {
        List<String> bad = new ArrayList<>();
        List<CommandLine> commands = commands(); // the root, the groups and the leaves
        assertTrue(commands.size() > leaves().size(), "expected groups as well as leaves");
        for (CommandLine cl : commands) {
            String name = cl.getCommandSpec().qualifiedName();
            String[] description = cl.getCommandSpec().usageMessage().description();
            if (description.length == 0 || description[0].isBlank()) {
                bad.add(name + ": no description");
                continue;
            }
            String summary = description[0].strip();
            if (!summary.endsWith(".") || summary.length() > SUMMARY_WIDTH) {
                bad.add(name + ": summary is not one sentence of at most " + SUMMARY_WIDTH + " characters ending "
                        + "with '.': \"" + summary + "\"");
            }
            for (String paragraph : description) {
                String p = paragraph.strip();
                if (p.isEmpty()) {
                    continue; // a blank line between paragraphs
                }
                if (p.contains("\n") || p.contains("%n") || !(p.endsWith(".") || p.endsWith(":"))
                        || Character.isLowerCase(p.charAt(0))) {
                    bad.add(name + ": description element is not a whole paragraph: \"" + p + "\"");
                }
            }
        }
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }

    @Test
    void everyLeafTakesTheSharedOptionsWithTheSameMeaning() {
        CommandSpec reference = CommandSpec.forAnnotatedObject(new Object() {
            @CommandLine.Mixin
            CommonOptions common;
        });
        for (CommandLine leaf : leaves()) {
            CommandSpec spec = leaf.getCommandSpec();
            for (String option : List.of("--seed", "--threads", "--verbose", "--no-progress")) {
                OptionSpec mine = spec.findOption(option);
                assertTrue(mine != null, spec.qualifiedName() + " lacks " + option);
                assertEquals(List.of(reference.findOption(option).description()), List.of(mine.description()),
                        spec.qualifiedName() + " " + option + " means something else here");
            }
        }
    }

    @Test
    void everyLeafAnswersAWrongOptionWithOneLineAndExitCode2() {
        for (CommandLine leaf : leaves()) {
            String name = leaf.getCommandSpec().qualifiedName();
            List<String> args = new ArrayList<>(List.of(name.substring("moescope ".length()).split(" ")));
            args.add("--no-such-option");
            CliRun run = CliRun.of(args.toArray(String[]::new));
            assertEquals(2, run.code(), name + ": " + run.err());
            assertEquals(1, run.err().strip().lines().count(), name + ": " + run.err());
            assertTrue(run.err().startsWith("moescope: ") && run.err().contains("'" + name + " --help'"),
                    name + ": " + run.err());
            assertEquals("", run.out(), name);
        }
    }

    @Test
    void groupsListTheirCommands() {
        for (CommandLine group : Moescope.commandLine().getSubcommands().values()) {
            if (group.getSubcommands().isEmpty() || group.getCommandName().equals("help")) {
                continue;
            }
            StringWriter out = new StringWriter();
            group.usage(new PrintWriter(out));
            for (String verb : group.getSubcommands().keySet()) {
                assertTrue(out.toString().contains("  " + verb + " "), group.getCommandName() + " help omits " + verb);
            }
            assertFalse(out.toString().isBlank());
        }
    }

    /** Every command: the root, the groups and the leaves (picocli's own help command aside). */
    static List<CommandLine> commands() {
        List<CommandLine> all = new ArrayList<>();
        collectAll(Moescope.commandLine(), all);
        return all;
    }

    private static void collectAll(CommandLine cl, List<CommandLine> all) {
        if (cl.getCommandName().equals("help")) {
            return;
        }
        all.add(cl);
        cl.getSubcommands().values().forEach(sub -> collectAll(sub, all));
    }

    /** Every command without subcommands (picocli's own help command aside). */
    static List<CommandLine> leaves() {
        return new ArrayList<>(commands().stream().filter(cl -> cl.getSubcommands().isEmpty()).toList());
    }

    /** The example command lines of a footer, continuation lines joined, as shell words (after "moescope"). */
    private static List<List<String>> exampleCommands(CommandSpec spec) {
        List<List<String>> commands = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : exampleLines(spec)) {
            String s = line.replaceFirst("\\s+#.*$", "").strip().replaceFirst("^\\$ ", "");
            boolean continues = s.endsWith("\\");
            current.append(' ').append(continues ? s.substring(0, s.length() - 1) : s);
            if (!continues) {
                // a shell redirection or pipe ends the command's own words
                List<String> words = words(current.toString().replaceFirst("\\s[>|].*$", "").strip());
                if (!words.isEmpty() && words.get(0).equals("moescope")) {
                    commands.add(words.subList(1, words.size()));
                }
                current.setLength(0);
            }
        }
        return commands;
    }

    /** Splits on blanks, honouring single quotes as a shell does. */
    private static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean quoted = false;
        boolean any = false;
        for (char c : line.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
                any = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (any) {
                    words.add(w.toString());
                }
                w.setLength(0);
                any = false;
            } else {
                w.append(c);
                any = true;
            }
        }
        if (any) {
            words.add(w.toString());
        }
        return words;
    }

    /** Footer lines that are command lines: starting with "moescope", or continuing one that ends in '\'. */
    private static List<String> exampleLines(CommandSpec spec) {
        List<String> lines = new ArrayList<>();
        boolean continued = false;
        for (String block : spec.usageMessage().footer()) {
            for (String line : block.split("\n")) {
                String s = line.strip();
                if (continued || s.startsWith("moescope ") || s.startsWith("$ moescope ")) {
                    lines.add(line);
                }
                continued = s.endsWith("\\");
            }
        }
        return lines;
    }
}
