package dev.moescope.cli.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;

/**
 * The report's HTML, appended in document order: escaping, headings, tables and figures. Images are embedded as
 * base64 {@code data:} URIs so the file stands alone; nothing refers to another file or address.
 */
final class Html {

    private final StringBuilder b = new StringBuilder(1 << 20);

    /** Appends raw (already safe) HTML. */
    Html raw(String html) {
        b.append(html);
        return this;
    }

    /** Appends escaped text. */
    Html text(String text) {
        b.append(esc(text));
        return this;
    }

    Html h(int level, String id, String title) {
        b.append("<h").append(level);
        if (id != null) {
            b.append(" id=\"").append(esc(id)).append('"');
        }
        b.append('>').append(esc(title)).append("</h").append(level).append(">\n");
        return this;
    }

    /** A paragraph of escaped text. */
    Html p(String text) {
        b.append("<p>").append(esc(text)).append("</p>\n");
        return this;
    }

    /** A paragraph of trusted HTML (built from escaped parts). */
    Html pHtml(String html) {
        b.append("<p>").append(html).append("</p>\n");
        return this;
    }

    /** A note that a stage's output is missing, so the reader knows why a part is empty. */
    Html missing(String what) {
        b.append("<p class=\"missing\">").append(esc(what)).append("</p>\n");
        return this;
    }

    /** A table of escaped cells; {@code numericFrom} right-aligns the columns from that index on. */
    Html table(List<String> headers, List<List<String>> rows, int numericFrom) {
        b.append("<div class=\"table\"><table><thead><tr>");
        for (int i = 0; i < headers.size(); i++) {
            b.append(i >= numericFrom ? "<th class=\"num\">" : "<th>").append(esc(headers.get(i))).append("</th>");
        }
        b.append("</tr></thead><tbody>\n");
        for (List<String> row : rows) {
            b.append("<tr>");
            for (int i = 0; i < row.size(); i++) {
                b.append(i >= numericFrom ? "<td class=\"num\">" : "<td>").append(esc(row.get(i))).append("</td>");
            }
            b.append("</tr>\n");
        }
        b.append("</tbody></table></div>\n");
        return this;
    }

    /** A figure around inline SVG (or other trusted HTML) with a caption saying what to look for. */
    Html figure(String svgOrHtml, String caption) {
        b.append("<figure>").append(svgOrHtml).append("<figcaption>").append(esc(caption))
                .append("</figcaption></figure>\n");
        return this;
    }

    /** A figure around a PNG file, embedded; a missing file is said, not hidden. */
    Html png(Path file, String alt, String caption) {
        if (file == null || !Files.isRegularFile(file)) {
            return missing("Figure not found: " + (file == null ? alt : file.getFileName()));
        }
        return figure(img(file, alt), caption);
    }

    /** An {@code <img>} element carrying the PNG's bytes. */
    static String img(Path file, String alt) {
        try {
            String data = Base64.getEncoder().encodeToString(Files.readAllBytes(file));
            return "<img alt=\"" + esc(alt) + "\" src=\"data:image/png;base64," + data + "\">";
        } catch (IOException e) {
            return "<p class=\"missing\">Cannot read " + esc(file.toString()) + ": " + esc(e.getMessage()) + "</p>";
        }
    }

    /** HTML-escapes text for element content and attribute values. */
    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return b.toString();
    }
}
