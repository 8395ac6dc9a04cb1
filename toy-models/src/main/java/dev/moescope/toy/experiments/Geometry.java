package dev.moescope.toy.experiments;

import dev.moescope.toy.metrics.FeatureGeometry;
import dev.moescope.toy.model.ToyWeights;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Per-expert feature geometry in summary.json form, shared by the bar-chart experiments. */
final class Geometry {

    private Geometry() {
    }

    /** norms, superposition, D_i, Σ D_i and represented count for every expert of an instance. */
    static List<Map<String, Object>> perExpert(ToyWeights w, int instance) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int e = 0; e < w.architecture().experts(); e++) {
            float[][] mat = w.expertMatrix(instance, e);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("expert", e);
            m.put("norms", round(FeatureGeometry.norms(mat)));
            m.put("superposition", round(FeatureGeometry.superposition(mat)));
            m.put("dimensionality", round(FeatureGeometry.dimensionality(mat)));
            m.put("dimensionality_sum", FeatureGeometry.dimensionalitySum(mat));
            m.put("represented_norm_gt_0_5", FeatureGeometry.countRepresented(mat, 0.5));
            m.put("features_per_dimension", FeatureGeometry.featuresPerDimension(mat));
            out.add(m);
        }
        return out;
    }

    static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Math.round(v[i] * 1e5) / 1e5;
        }
        return r;
    }

    static double[] logspace(double base, int count) {
        // base^{−linspace(0, 1, count)}, the TMS notebook's density schedule
        double[] p = new double[count];
        for (int i = 0; i < count; i++) {
            p[i] = Math.pow(base, -(count == 1 ? 0 : i / (double) (count - 1)));
        }
        return p;
    }
}
