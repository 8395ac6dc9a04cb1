package dev.moescope.toy.plot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FiguresTest {

    @Test
    void decadesSpansThePositiveValuesOfAllSeries() {
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("a", new double[][] {{1, 10}, {0.02, 0.1}});
        series.put("b", new double[][] {{1, 1000}, {0, 0.5}});
        assertEquals(3.0, Figures.decades(series, 0), 1e-12);
        // zero cannot sit on a log axis and is ignored: 0.02 .. 0.5
        assertEquals(Math.log10(25), Figures.decades(series, 1), 1e-12);
        assertEquals(0.0, Figures.decades(Map.of("c", new double[][] {{0}, {0}}), 0));
    }

    @Test
    void aLogLogLineChartIsWritten(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("loss.png");
        Figures.lines(png, "loss", "1/(1-S)", "loss", true, true,
                Map.of("dense", new double[][] {{1, 2, 5, 10}, {0.07, 0.09, 0.04, 0.016}}), null);
        byte[] head = Files.readAllBytes(png);
        assertTrue(head.length > 1000 && head[1] == 'P' && head[2] == 'N' && head[3] == 'G', "a PNG file");
    }
}
