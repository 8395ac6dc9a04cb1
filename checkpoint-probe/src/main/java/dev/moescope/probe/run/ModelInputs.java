package dev.moescope.probe.run;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import dev.moescope.core.error.MoescopeException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The inputs a decoder export declares and how each is filled for a teacher-forced prefill: {@code input_ids},
 * {@code attention_mask}, {@code position_ids}, {@code token_type_ids} (zeros), empty past key/values (the past
 * sequence dimension is 0, created through the buffer path since ORT's array path rejects zero-length tensors),
 * and {@code use_cache_branch} (false) of merged decoders. Any other floating input is {@link Role#EXTRA}: the
 * caller feeds it (a spliced hook); any other input is bad input naming it.
 *
 * @param inputs one entry per model input, in the model's order
 */
public record ModelInputs(List<Input> inputs) {

    /** What an input is for. */
    public enum Role {
        INPUT_IDS, ATTENTION_MASK, POSITION_IDS, TOKEN_TYPE_IDS, PAST, USE_CACHE_BRANCH,
        /** Not a decoder input: the caller must feed it each run (a hook turned into an input for splicing). */
        EXTRA
    }

    /**
     * One model input.
     *
     * @param name  its name
     * @param role  how it is filled
     * @param type  its element type
     * @param shape its declared shape (-1 for symbolic dimensions)
     */
    public record Input(String name, Role role, OnnxJavaType type, long[] shape) {
    }

    public ModelInputs {
        inputs = List.copyOf(inputs);
    }

    /** Classifies every input of a session; {@code model} names the file in errors. */
    public static ModelInputs discover(Map<String, NodeInfo> info, Path model) {
        List<Input> list = new ArrayList<>();
        boolean hasIds = false;
        for (Map.Entry<String, NodeInfo> e : info.entrySet()) {
            String name = e.getKey();
            if (!(e.getValue().getInfo() instanceof TensorInfo t)) {
                throw MoescopeException.badInput(model, "input '" + name + "' is not a tensor");
            }
            Role role = roleOf(name);
            if (role == null && (t.type == OnnxJavaType.FLOAT || t.type == OnnxJavaType.FLOAT16
                    || t.type == OnnxJavaType.BFLOAT16)) {
                role = Role.EXTRA;
            }
            if (role == null) {
                throw MoescopeException.badInput(model, "input '" + name + "' is not one moescope can fill "
                        + "(input_ids, attention_mask, position_ids, token_type_ids, past key/values, use_cache_branch)");
            }
            if ((role == Role.INPUT_IDS || role == Role.ATTENTION_MASK || role == Role.POSITION_IDS
                    || role == Role.TOKEN_TYPE_IDS) && t.type != OnnxJavaType.INT64 && t.type != OnnxJavaType.INT32) {
                throw MoescopeException.badInput(model, "input '" + name + "' has type " + t.type
                        + ", expected int64 or int32");
            }
            if (role == Role.PAST && t.type != OnnxJavaType.FLOAT && t.type != OnnxJavaType.FLOAT16
                    && t.type != OnnxJavaType.BFLOAT16) {
                throw MoescopeException.badInput(model, "past input '" + name + "' has type " + t.type);
            }
            hasIds |= role == Role.INPUT_IDS;
            list.add(new Input(name, role, t.type, t.getShape()));
        }
        if (!hasIds) {
            throw MoescopeException.badInput(model, "the model has no input_ids input (inputs: " + info.keySet() + ")");
        }
        return new ModelInputs(list);
    }

    static Role roleOf(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        if (n.equals("input_ids") || n.equals("input") || n.equals("tokens")) {
            return Role.INPUT_IDS;
        }
        if (n.equals("attention_mask")) {
            return Role.ATTENTION_MASK;
        }
        if (n.equals("position_ids")) {
            return Role.POSITION_IDS;
        }
        if (n.equals("token_type_ids")) {
            return Role.TOKEN_TYPE_IDS;
        }
        if (n.equals("use_cache_branch")) {
            return Role.USE_CACHE_BRANCH;
        }
        if (n.startsWith("past_key_values") || n.startsWith("past.") || n.startsWith("past_")) {
            return Role.PAST;
        }
        return null;
    }

    /** Names of the inputs the caller must feed ({@link Role#EXTRA}). */
    public List<String> extraNames() {
        return inputs.stream().filter(i -> i.role() == Role.EXTRA).map(Input::name).toList();
    }

    /**
     * The shape of an empty past tensor for {@code batch}: the first symbolic dimension is the batch, every other
     * symbolic one (the past length) is 0, fixed dimensions (heads, head size) are kept.
     */
    static long[] emptyPastShape(long[] declared, int batch) {
        long[] s = declared.clone();
        boolean batchSet = false;
        for (int i = 0; i < s.length; i++) {
            if (s[i] < 0) {
                s[i] = batchSet ? 0 : batch;
                batchSet = true;
            }
        }
        return s;
    }
}
