package dev.moescope.probe.run;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtProvider;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.platform.Fp16Conversions;
import dev.moescope.core.error.MoescopeException;
import dev.moescope.core.error.Require;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One ONNX Runtime session over a model file, or over an edited copy of it held in memory ({@link #openEdited}).
 * Either way external data resolves against the original's directory, and nothing is written beside the model.
 * Every native object a run creates (input tensors, the result) is closed before {@link #run} returns; outputs come
 * back as {@link HostTensor}s on the Java heap. Not for concurrent use (one session per thread of work).
 */
public final class OrtRunner implements AutoCloseable {

    /**
     * Session settings.
     *
     * @param model        the .onnx file
     * @param device       where to run
     * @param threads      intra-op threads (0 = one per core)
     * @param optimization ORT graph optimisation level; {@code BASIC_OPT} by default because exposed intermediate
     *                     outputs block most fusions anyway
     */
    public record Config(Path model, Device device, int threads, OrtSession.SessionOptions.OptLevel optimization) {
        public Config {
            Require.notNull("model", model);
            Require.notNull("device", device);
            Require.nonNegative("threads", threads);
            optimization = optimization == null ? OrtSession.SessionOptions.OptLevel.BASIC_OPT : optimization;
        }

        public static Config cpu(Path model, int threads) {
            return new Config(model, Device.CPU, threads, null);
        }
    }

    private final Config config;
    private final OrtEnvironment env;
    private final OrtSession.SessionOptions options;
    private final OrtSession session;
    private final ModelInputs inputs;
    private final String deviceUsed;
    private final String deviceNote;

    private OrtRunner(Config config, OrtSession.SessionOptions options, OrtSession session, String deviceUsed,
                      String deviceNote) throws OrtException {
        this.config = config;
        this.env = OrtEnvironment.getEnvironment();
        this.options = options;
        this.session = session;
        this.deviceUsed = deviceUsed;
        this.deviceNote = deviceNote;
        this.inputs = ModelInputs.discover(session.getInputInfo(), config.model());
    }

    /**
     * Opens a session. {@code cuda} that cannot load its provider is bad input (exit 3) saying why; {@code auto}
     * then falls back to CPU and {@link #deviceNote()} says so.
     */
    public static OrtRunner open(Config config) {
        return open(config, null);
    }

    /**
     * Opens a session on {@code edited}, an edited copy of {@code config.model()} (extra outputs, another top-k), from
     * memory. Its external-data references resolve against the original's directory (ORT's
     * {@value #EXTERNAL_DATA_FOLDER} option), so the edit is never written to disk: a read-only model directory works
     * and no edited files pile up beside the model. Same errors as {@link #open(Config)}.
     */
    public static OrtRunner openEdited(Config config, ModelProto edited) {
        Require.notNull("edited", edited);
        return open(config, edited);
    }

    /** ORT session option: the folder external initializers are read from when the model comes from memory. */
    static final String EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

    private static OrtRunner open(Config config, ModelProto edited) {
        Path model = config.model();
        if (!Files.isRegularFile(model)) {
            throw MoescopeException.badInput(model, "no such model file");
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession session = null;
        try {
            int threads = config.threads() > 0 ? config.threads() : Runtime.getRuntime().availableProcessors();
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            opts.setOptimizationLevel(config.optimization());
            String used = "cpu";
            String note = "";
            Device d = config.device();
            if (d.kind() != Device.Kind.CPU) {
                String why = cudaUnavailableReason(opts, d.deviceId());
                if (why == null) {
                    used = "cuda:" + d.deviceId();
                } else if (d.kind() == Device.Kind.CUDA) {
                    throw MoescopeException.badInput("--device " + d + ": the CUDA execution provider cannot be "
                            + "loaded (" + why + "); use --device cpu, or a build with -Pcuda on a machine with "
                            + "a matching CUDA/cuDNN");
                } else {
                    note = "--device auto: CUDA unavailable (" + why + "), running on CPU";
                }
            }
            try {
                if (edited == null) {
                    session = env.createSession(model.toAbsolutePath().toString(), opts);
                } else {
                    opts.addConfigEntry(EXTERNAL_DATA_FOLDER, model.toAbsolutePath().getParent().toString());
                    session = env.createSession(edited.toByteArray(), opts);
                }
            } catch (OrtException e) {
                throw MoescopeException.badInput(model, "ONNX Runtime cannot load the " + (edited == null ? "" : "edited ")
                        + "model: " + firstLine(e), e);
            }
            return new OrtRunner(config, opts, session, used, note);
        } catch (OrtException e) {
            closeQuietly(session);
            opts.close();
            throw MoescopeException.failure(model + ": cannot start ONNX Runtime: " + firstLine(e), e);
        } catch (RuntimeException e) {
            closeQuietly(session);
            opts.close();
            throw e;
        }
    }

    /** Adds the CUDA provider to {@code opts}; returns null on success, else why it failed. */
    private static String cudaUnavailableReason(OrtSession.SessionOptions opts, int deviceId) {
        if (!OrtEnvironment.getAvailableProviders().contains(OrtProvider.CUDA)) {
            return "this ONNX Runtime build has no CUDA provider (providers: "
                    + OrtEnvironment.getAvailableProviders() + ")";
        }
        try {
            opts.addCUDA(deviceId);
            return null;
        } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
            return firstLine(e);
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static void closeQuietly(OrtSession s) {
        if (s != null) {
            try {
                s.close();
            } catch (OrtException ignored) {
                // closing after a failed open: nothing more to do
            }
        }
    }

    public ModelInputs inputs() {
        return inputs;
    }

    /** The device the session runs on: {@code cpu} or {@code cuda:N}. */
    public String deviceUsed() {
        return deviceUsed;
    }

    /** Non-empty when {@code auto} fell back to CPU. */
    public String deviceNote() {
        return deviceNote;
    }

    public Config config() {
        return config;
    }

    /** The model's output names. */
    public Set<String> outputNames() {
        return session.getOutputNames();
    }

    /** Declared output element types, by name. */
    public Map<String, String> outputTypes() {
        Map<String, String> m = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, NodeInfo> e : session.getOutputInfo().entrySet()) {
                m.put(e.getKey(), e.getValue().getInfo() instanceof TensorInfo t ? t.type.name().toLowerCase() : "?");
            }
        } catch (OrtException e) {
            throw MoescopeException.failure("cannot read the model's outputs: " + firstLine(e), e);
        }
        return m;
    }

    /**
     * Runs one batch and returns the requested outputs (all outputs if {@code outputs} is empty), copied to the heap.
     * Input and output native tensors are closed before returning, even on failure.
     */
    public Map<String, HostTensor> run(TokenBatch batch, Set<String> outputs) {
        return run(batch, outputs, Map.of());
    }

    /**
     * As {@link #run(TokenBatch, Set)}, feeding {@code extras} (float values with their shape) to the model's
     * {@link ModelInputs.Role#EXTRA} inputs, e.g. an SAE reconstruction spliced in place of a hook tensor.
     */
    public Map<String, HostTensor> run(TokenBatch batch, Set<String> outputs, Map<String, HostTensor> extras) {
        for (String o : outputs) {
            if (!session.getOutputNames().contains(o)) {
                throw MoescopeException.badInput(config.model(), "no output '" + o + "' (outputs: "
                        + session.getOutputNames() + ")");
            }
        }
        List<OnnxTensor> created = new ArrayList<>();
        try {
            Map<String, OnnxTensor> feed = new LinkedHashMap<>();
            for (ModelInputs.Input in : inputs.inputs()) {
                OnnxTensor t = createInput(in, batch, extras);
                created.add(t);
                feed.put(in.name(), t);
            }
            Set<String> wanted = outputs.isEmpty() ? session.getOutputNames() : outputs;
            try (OrtSession.Result result = session.run(feed, wanted)) {
                Map<String, HostTensor> out = new LinkedHashMap<>();
                for (Map.Entry<String, OnnxValue> e : result) {
                    out.put(e.getKey(), toHost(e.getKey(), e.getValue()));
                }
                return out;
            }
        } catch (OrtException e) {
            throw MoescopeException.failure(config.model() + ": ONNX Runtime run failed: " + firstLine(e), e);
        } finally {
            for (OnnxTensor t : created) {
                t.close();
            }
        }
    }

    private OnnxTensor createInput(ModelInputs.Input in, TokenBatch b, Map<String, HostTensor> extras)
            throws OrtException {
        long[] shape2 = {b.batch(), b.seqLen()};
        return switch (in.role()) {
            case EXTRA -> {
                HostTensor x = extras.get(in.name());
                if (x == null || x.floats() == null) {
                    throw MoescopeException.badInput(config.model(), "input '" + in.name() + "' is not one moescope "
                            + "can fill (input_ids, attention_mask, position_ids, past key/values) and no value was given");
                }
                yield floatTensor(x.floats(), x.shape(), in.type());
            }
            case INPUT_IDS -> intTensor(b.ids(), shape2, in.type());
            case ATTENTION_MASK -> intTensor(b.attentionMask(), shape2, in.type());
            case POSITION_IDS -> intTensor(b.positionIds(), shape2, in.type());
            case TOKEN_TYPE_IDS -> intTensor(new long[b.ids().length], shape2, in.type());
            case USE_CACHE_BRANCH -> OnnxTensor.createTensor(env, ByteBuffer.allocateDirect(1), new long[]{1},
                    OnnxJavaType.BOOL);
            case PAST -> {
                long[] shape = ModelInputs.emptyPastShape(in.shape(), b.batch());
                // zero-length: only the buffer path accepts it (ORT PR #15116)
                ByteBuffer empty = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder());
                yield in.type() == OnnxJavaType.FLOAT
                        ? OnnxTensor.createTensor(env, empty.asFloatBuffer(), shape)
                        : OnnxTensor.createTensor(env, empty, shape, in.type());
            }
        };
    }

    private OnnxTensor floatTensor(float[] values, long[] shape, OnnxJavaType type) throws OrtException {
        if (type == OnnxJavaType.FLOAT) {
            return OnnxTensor.createTensor(env, FloatBuffer.wrap(values), shape);
        }
        ShortBuffer bits = ShortBuffer.allocate(values.length);
        for (float v : values) {
            bits.put(type == OnnxJavaType.FLOAT16 ? Fp16Conversions.floatToFp16(v) : Fp16Conversions.floatToBf16(v));
        }
        bits.flip();
        return OnnxTensor.createTensor(env, bits, shape, type);
    }

    private OnnxTensor intTensor(long[] values, long[] shape, OnnxJavaType type) throws OrtException {
        if (type == OnnxJavaType.INT32) {
            int[] v = new int[values.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = Math.toIntExact(values[i]);
            }
            return OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
        }
        return OnnxTensor.createTensor(env, LongBuffer.wrap(values), shape);
    }

    /** Copies one output to the heap; fp16/bf16 go through {@link Fp16Conversions} (portable across ORT versions). */
    static HostTensor toHost(String name, OnnxValue value) {
        if (!(value instanceof OnnxTensor t)) {
            throw MoescopeException.badInput("output '" + name + "' is not a tensor");
        }
        TensorInfo info = t.getInfo();
        long[] shape = info.getShape();
        String type = info.type.name().toLowerCase();
        switch (info.type) {
            case FLOAT -> {
                // getFloatBuffer() already copies the native tensor into a fresh heap buffer: take its array
                // rather than copying a second time (activation outputs are the probe's largest transfers)
                FloatBuffer fb = t.getFloatBuffer();
                float[] f;
                if (fb.hasArray() && fb.arrayOffset() == 0 && fb.position() == 0 && fb.array().length == fb.remaining()) {
                    f = fb.array();
                } else {
                    f = new float[fb.remaining()];
                    fb.get(f);
                }
                return new HostTensor(name, shape, type, f, null);
            }
            case FLOAT16, BFLOAT16 -> {
                ShortBuffer sb = t.getShortBuffer();
                float[] f = new float[sb.remaining()];
                boolean half = info.type == OnnxJavaType.FLOAT16;
                for (int i = 0; i < f.length; i++) {
                    short bits = sb.get(i);
                    f[i] = half ? Fp16Conversions.fp16ToFloat(bits) : Fp16Conversions.bf16ToFloat(bits);
                }
                return new HostTensor(name, shape, type, f, null);
            }
            case DOUBLE -> {
                DoubleBuffer db = t.getDoubleBuffer();
                float[] f = new float[db.remaining()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) db.get(i);
                }
                return new HostTensor(name, shape, type, f, null);
            }
            case INT64 -> {
                LongBuffer lb = t.getLongBuffer();
                long[] l = new long[lb.remaining()];
                lb.get(l);
                return new HostTensor(name, shape, type, null, l);
            }
            case INT32 -> {
                IntBuffer ib = t.getIntBuffer();
                long[] l = new long[ib.remaining()];
                for (int i = 0; i < l.length; i++) {
                    l[i] = ib.get(i);
                }
                return new HostTensor(name, shape, type, null, l);
            }
            case BOOL, INT8, UINT8 -> {
                ByteBuffer bb = t.getByteBuffer();
                long[] l = new long[bb.remaining()];
                for (int i = 0; i < l.length; i++) {
                    l[i] = info.type == OnnxJavaType.UINT8 ? (bb.get(i) & 0xff) : bb.get(i);
                }
                return new HostTensor(name, shape, type, null, l);
            }
            default -> throw MoescopeException.badInput("output '" + name + "' has unsupported type " + type);
        }
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw MoescopeException.failure("cannot close the ONNX Runtime session: " + firstLine(e), e);
        } finally {
            options.close();
        }
    }
}
