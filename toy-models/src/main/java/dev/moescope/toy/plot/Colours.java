package dev.moescope.toy.plot;

import java.awt.Color;

/** Colour maps: viridis (superposition), coolwarm (Gram matrices), a categorical palette (experts). */
public final class Colours {

    private static final float[][] VIRIDIS = {
        {0.267f, 0.005f, 0.329f}, {0.283f, 0.141f, 0.458f}, {0.254f, 0.265f, 0.530f}, {0.207f, 0.372f, 0.553f},
        {0.164f, 0.471f, 0.558f}, {0.128f, 0.567f, 0.551f}, {0.135f, 0.659f, 0.518f}, {0.267f, 0.749f, 0.441f},
        {0.478f, 0.821f, 0.318f}, {0.741f, 0.873f, 0.150f}, {0.993f, 0.906f, 0.144f}};

    private static final Color[] CATEGORICAL = {
        new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44), new Color(214, 39, 40),
        new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194), new Color(127, 127, 127),
        new Color(188, 189, 34), new Color(23, 190, 207)};

    private Colours() {
    }

    /** Viridis at t ∈ [0, 1] (clipped). */
    public static Color viridis(double t) {
        double c = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
        int i = (int) Math.min(Math.floor(c), VIRIDIS.length - 2);
        double f = c - i;
        float[] a = VIRIDIS[i];
        float[] b = VIRIDIS[i + 1];
        return new Color((float) (a[0] + f * (b[0] - a[0])), (float) (a[1] + f * (b[1] - a[1])),
                (float) (a[2] + f * (b[2] - a[2])));
    }

    /** Coolwarm-like diverging map at v ∈ [−1, 1]: blue, white, red. */
    public static Color coolwarm(double v) {
        double t = Math.max(-1, Math.min(1, v));
        Color blue = new Color(59, 76, 192);
        Color red = new Color(180, 4, 38);
        Color mid = new Color(221, 221, 221);
        Color end = t < 0 ? blue : red;
        double f = Math.abs(t);
        return new Color((int) (mid.getRed() + f * (end.getRed() - mid.getRed())),
                (int) (mid.getGreen() + f * (end.getGreen() - mid.getGreen())),
                (int) (mid.getBlue() + f * (end.getBlue() - mid.getBlue())));
    }

    public static Color category(int i) {
        return CATEGORICAL[Math.floorMod(i, CATEGORICAL.length)];
    }
}
