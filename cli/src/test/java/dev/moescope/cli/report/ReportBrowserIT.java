package dev.moescope.cli.report;

import dev.moescope.cli.CliRun;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The demo's report opened in a real browser (headless Debian Chromium): a small real demo run writes it, the
 * browser loads it from disk, and its DOM after the load event must show every image decoded, every section
 * present, no script error and no blocked fetch; a full-page screenshot is saved as
 * {@code target/report-screenshot.png}. Two negative controls prove the check can fail: a corrupted PNG and a
 * removed section are both reported.
 *
 * <p>Needs {@code /usr/bin/chromium} ({@code apt-get install chromium}; {@code .ci/run} installs it). Without it
 * the test is skipped, unless {@code MOESCOPE_REQUIRE_BROWSER=1} (set by {@code .ci/run}) makes that a failure.
 */
@Tag("slow")
class ReportBrowserIT {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Pattern ATTR = Pattern.compile("([a-z-]+)=\"([^\"]*)\"");

    @Test
    void demoReportRendersInChromiumWithEveryImageAndSection(@TempDir Path tmp) throws Exception {
        requireBrowser();
        Path out = tmp.resolve("demo");
        CliRun demo = CliRun.of("demo", "--smoke", "--no-progress", "--out", out.toString());
        assertEquals(0, demo.code(), demo.out() + demo.err());
        Path report = out.resolve(DemoReport.FILE);
        assertTrue(demo.out().strip().endsWith("report: " + report.toAbsolutePath().normalize()), demo.out());

        String html = Files.readString(report);
        assertSelfContained(html);
        Rendered page = render(report, tmp);
        List<String> problems = problems(html, page);
        assertTrue(problems.isEmpty(), "report problems: " + problems);
        assertTrue(page.images() >= 6, "expected the stages' PNGs embedded, found " + page.images());

        Path screenshot = Path.of("target", "report-screenshot.png").toAbsolutePath();
        screenshot(report, screenshot, Math.min(page.height(), 24_000), tmp);
        BufferedImage shot = ImageIO.read(screenshot.toFile());
        assertEquals(1280, shot.getWidth());
        assertTrue(shot.getHeight() > 2000, "screenshot height " + shot.getHeight());

        // negative control 1: a PNG that does not decode is reported as a broken image
        Path png = out.resolve("toy/fig3/fig3-features-per-dimension.png");
        Files.write(png, "not a png".getBytes(StandardCharsets.UTF_8));
        CliRun rebuilt = CliRun.of("demo", "--report-only", "--out", out.toString());
        assertEquals(0, rebuilt.code(), rebuilt.err());
        List<String> broken = problems(Files.readString(report), render(report, tmp));
        assertTrue(broken.stream().anyMatch(p -> p.contains("features per dimension")), "not caught: " + broken);

        // negative control 2: a report without a section is reported
        String withoutSae = html.replaceFirst("(?s)<section id=\"sae\">.*?</section>", "");
        Path cut = tmp.resolve("cut.html");
        Files.writeString(cut, withoutSae);
        List<String> missing = problems(withoutSae, render(cut, tmp));
        assertTrue(missing.stream().anyMatch(p -> p.contains("section sae")), "not caught: " + missing);
    }

    /** What the page's own load check recorded on {@code <html>} and {@code <body>}, and the section ids. */
    record Rendered(String htmlTag, String bodyTag, String dom) {

        int images() {
            return Integer.parseInt(attr(bodyTag, "data-images", "-1"));
        }

        int height() {
            return Integer.parseInt(attr(bodyTag, "data-height", "4000"));
        }
    }

    /** Everything wrong with a rendered report; empty when it is fine. */
    static List<String> problems(String source, Rendered page) {
        List<String> problems = new ArrayList<>();
        if (!"yes".equals(attr(page.bodyTag(), "data-checked", ""))) {
            problems.add("the page's load check did not run: " + page.bodyTag());
            return problems;
        }
        String errors = attr(page.htmlTag(), "data-js-errors", "");
        if (!errors.isEmpty()) {
            problems.add("errors in the browser: " + errors);
        }
        int inSource = count(source, "<img ");
        if (page.images() != inSource) {
            problems.add("the browser saw " + page.images() + " images, the file has " + inSource);
        }
        String loaded = attr(page.bodyTag(), "data-images-loaded", "-1");
        if (Integer.parseInt(loaded) != page.images()) {
            problems.add(loaded + " of " + page.images() + " images loaded; broken: "
                    + attr(page.bodyTag(), "data-images-broken", ""));
        }
        for (String id : DemoReport.SECTIONS) {
            Matcher m = Pattern.compile("(?s)<section id=\"" + id + "\">(.*?)</section>").matcher(page.dom());
            if (!m.find()) {
                problems.add("section " + id + " is missing");
            } else if (!m.group(1).contains("<h2")) {
                problems.add("section " + id + " has no heading");
            }
        }
        return problems;
    }

    private static void assertSelfContained(String html) {
        assertTrue(html.contains("Content-Security-Policy"), "no content security policy");
        for (String external : List.of("src=\"http", "href=\"http", "url(http", "src=\"//", "@import")) {
            assertFalse(html.contains(external), "report refers to something outside itself: " + external);
        }
        assertFalse(Pattern.compile("<(script|link)[^>]*\\s(src|href)=").matcher(html).find(),
                "report loads a script or stylesheet from a file");
    }

    private static Rendered render(Path html, Path tmp) throws Exception {
        String dom = chromium(tmp, "--dump-dom", html.toUri().toString());
        return new Rendered(tag(dom, "html"), tag(dom, "body"), dom);
    }

    private static void screenshot(Path html, Path png, int height, Path tmp) throws Exception {
        Files.createDirectories(png.getParent());
        Files.deleteIfExists(png);
        chromium(tmp, "--hide-scrollbars", "--window-size=1280," + height, "--screenshot=" + png,
                html.toUri().toString());
        assertTrue(Files.size(png) > 0, "no screenshot written");
    }

    /** Runs headless Chromium with this machine's closed-network flags and a fresh profile; returns stdout. */
    private static String chromium(Path tmp, String... args) throws IOException, InterruptedException {
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        List<String> cmd = new ArrayList<>(List.of(CHROMIUM.toString(), "--headless", "--no-sandbox",
                "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        Path stderr = tmp.resolve("chromium.err");
        Process p = new ProcessBuilder(cmd).redirectError(stderr.toFile()).start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), "chromium failed: " + Files.readString(stderr));
        return stdout;
    }

    private static void requireBrowser() {
        if (!Files.isExecutable(CHROMIUM)) {
            String message = CHROMIUM + " not found: install Debian's chromium (apt-get install chromium)";
            if ("1".equals(System.getenv("MOESCOPE_REQUIRE_BROWSER"))) {
                throw new AssertionError(message);
            }
            Assumptions.abort(message);
        }
    }

    private static String tag(String dom, String name) {
        Matcher m = Pattern.compile("<" + name + "(\\s[^>]*)?>").matcher(dom);
        return m.find() ? m.group() : "";
    }

    private static String attr(String tag, String name, String absent) {
        Matcher m = ATTR.matcher(tag);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return m.group(2);
            }
        }
        return absent;
    }

    private static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
