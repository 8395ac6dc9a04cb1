package dev.moescope.probe.export;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.moescope.fixtures.NpyArray;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Test helper: runs an exported model with ONNX Runtime Java on a batch and returns every output as floats with
 * its shape, and compares outputs with a PyTorch reference.
 */
final class OrtReference {

    /** One output: values in C order and shape. */
    record Tensor(float[] values, long[] shape) {
        float at(long... index) {
            long flat = 0;
            for (int i = 0; i < shape.length; i++) {
                flat = flat * shape[i] + index[i];
            }
            return values[Math.toIntExact(flat)];
        }
    }

    private OrtReference() {
    }

    static OrtSession open(Path model) throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setIntraOpNumThreads(1);
        // load by path so external data next to the model would resolve
        return OrtEnvironment.getEnvironment().createSession(model.toString(), options);
    }

    static Map<String, Tensor> run(OrtSession session, long[] ids, long[] mask, long batch, long seq)
            throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        long[] shape = {batch, seq};
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (OnnxTensor idsT = OnnxTensor.createTensor(env, LongBuffer.wrap(ids), shape);
             OnnxTensor maskT = OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape);
             OrtSession.Result result = session.run(Map.of("input_ids", idsT, "attention_mask", maskT))) {
            for (Map.Entry<String, OnnxValue> e : result) {
                OnnxTensor t = (OnnxTensor) e.getValue();
                FloatBuffer fb = t.getFloatBuffer();
                float[] values = new float[fb.remaining()];
                fb.get(values);
                out.put(e.getKey(), new Tensor(values, t.getInfo().getShape()));
            }
        }
        return out;
    }

    static Map<String, Tensor> run(OrtSession session, Map<String, NpyArray> reference) throws OrtException {
        NpyArray ids = reference.get("input_ids");
        return run(session, ids.longs(), reference.get("attention_mask").longs(), ids.shape()[0], ids.shape()[1]);
    }

    static double maxAbsDiff(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new AssertionError("length " + a.length + " vs " + b.length);
        }
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs((double) a[i] - b[i]));
        }
        return max;
    }

    /** Indices of the k largest values of {@code row} (length n, starting at {@code offset}), largest first. */
    static int[] topK(float[] values, int offset, int n, int k) {
        int[] best = new int[k];
        boolean[] taken = new boolean[n];
        for (int j = 0; j < k; j++) {
            int arg = -1;
            for (int i = 0; i < n; i++) {
                if (!taken[i] && (arg < 0 || values[offset + i] > values[offset + arg])) {
                    arg = i;
                }
            }
            taken[arg] = true;
            best[j] = arg;
        }
        return best;
    }
}
