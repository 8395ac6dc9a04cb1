package dev.moescope.cli.crosscoder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.moescope.cli.CliRun;
import dev.moescope.core.json.Json;
import dev.moescope.core.provenance.Provenance;
import dev.moescope.fixtures.Fixtures;
import dev.moescope.store.Identity;
import dev.moescope.store.StoreSpec;
import dev.moescope.store.StoreWriter;
import dev.moescope.store.TokenRows;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code moescope crosscoder diff}: the whole pipeline on the fixture models (record the MoE and its dense twin
 * with {@code probe run}, {@code crosscoder train}, {@code crosscoder diff}), and the diff's bad inputs, each one
 * line, exit 3, nothing written: a missing or corrupt run, stores of another tokenizer, another token stream or
 * another row count, a hook of the wrong width.
 */
class CrosscoderDiffCliTest {

    private static final String HOOK = "blocks.2.resid_post";

    private static void assertOneLineError(CliRun r, int code, String... contains) {
        assertEquals(code, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, r.err());
        assertTrue(lines[0].startsWith("moescope: "), r.err());
        for (String c : contains) {
            assertTrue(lines[0].contains(c), "'" + c + "' in " + r.err());
        }
    }

    @Test
    @Tag("slow")
    void probeTrainAndDiffTheFixtureMoeAndDenseModels(@TempDir Path tmp) throws Exception {
        String tokenizer = Fixtures.path(Fixtures.TOKENIZER).toString();
        String corpus = Fixtures.path(Fixtures.CORPUS).toString();
        Path moe = tmp.resolve("moe");
        Path dense = tmp.resolve("dense");
        // the demo's stages 5-6 (the logits-only MoE export and the dense twin, same tokens)
        CliRun pm = CliRun.of("probe", "run", "--model",
                Fixtures.path(Fixtures.MOE_LOGITS_ONLY_MODEL).resolve(Fixtures.MODEL_FILE).toString(),
                "--tokenizer", tokenizer, "--corpus", corpus, "--bos", "0", "--seq-len", "128", "--hooks", HOOK,
                "--no-progress", "--out", moe.toString());
        assertEquals(0, pm.code(), pm.err());
        CliRun pd = CliRun.of("probe", "run", "--model",
                Fixtures.path(Fixtures.DENSE_MODEL).resolve(Fixtures.MODEL_FILE).toString(), "--no-routing",
                "--tokenizer", tokenizer, "--corpus", corpus, "--bos", "0", "--seq-len", "128", "--hooks", HOOK,
                "--no-progress", "--out", dense.toString());
        assertEquals(0, pd.code(), pd.err());
        Path run = tmp.resolve("cc");
        CliRun t = CliRun.of("crosscoder", "train", "--store", moe.toString(), "--store", dense.toString(), "--hook",
                HOOK, "--hook", HOOK, "--latents", "256", "--k", "8", "--shared", "16", "--batch", "512", "--steps",
                "600", "--threads", "2", "--no-progress", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        Path out = tmp.resolve("diff");
        CliRun d = CliRun.of("crosscoder", "diff", run.toString(), "--out", out.toString(), "--threads", "2",
                "--no-progress");
        assertEquals(0, d.code(), d.err());
        System.out.println(d.out());
        assertTrue(d.out().contains("held-out tokens") && d.out().contains("claim"), d.out());

        JsonObject s = Json.read(out.resolve("summary.json"), JsonObject.class);
        assertEquals("crosscoder diff", s.getAsJsonObject("provenance").get("operation").getAsString());
        assertEquals(4, s.getAsJsonObject("provenance").getAsJsonArray("inputs").size());
        assertEquals("tiny-moe-logits", s.getAsJsonObject("moe").get("model").getAsString());
        assertEquals("validation", s.get("split").getAsString());
        long tokens = s.get("tokens").getAsLong();
        assertTrue(tokens > 1000 && tokens < 80158 / 2, "held-out tokens " + tokens);
        int total = 0;
        for (var e : s.getAsJsonObject("counts").entrySet()) {
            total += e.getValue().getAsInt();
        }
        assertEquals(256, total);
        assertEquals(16, s.getAsJsonObject("counts").get("SHARED_DESIGNATED").getAsInt());
        double fve = s.getAsJsonObject("reconstruction").get("fve_pooled").getAsDouble();
        assertTrue(fve > 0.5 && fve < 1, "FVE " + fve);
        double dead = s.get("dead_fraction").getAsDouble();
        assertTrue(dead >= 0 && dead < 0.5, "dead " + dead);
        // the fixture corpus has four domains; the MoE store recorded routing of 8 experts at the hook's layer
        assertEquals(Fixtures.DOMAINS.size(), s.getAsJsonObject("domain_tokens").size());
        JsonObject routing = s.getAsJsonObject("routing");
        assertEquals(2, routing.get("layer").getAsInt());
        assertEquals(8, routing.get("experts").getAsInt());
        double rates = 0;
        for (JsonElement q : routing.getAsJsonArray("base_rates")) {
            rates += q.getAsDouble();
        }
        assertEquals(2.0, rates, 1e-9, "top-2 routing: base rates sum to 2");

        JsonArray claims = s.getAsJsonArray("claims");
        assertEquals(4, claims.size());
        for (JsonElement c : claims) {
            JsonObject o = c.getAsJsonObject();
            assertTrue(o.has("claim") && o.has("expected") && o.has("measured") && o.has("supported"), o.toString());
        }
        assertTrue(claims.get(0).getAsJsonObject().get("measured").getAsString()
                .contains(String.format("%.4f", fve)));
        assertTrue(claims.get(3).getAsJsonObject().get("supported").getAsBoolean(), "designated r = 0.5, cos = 1");
        JsonArray figures = s.getAsJsonArray("figures");
        assertEquals(4, figures.size());
        for (JsonElement f : figures) {
            Path png = out.resolve(f.getAsJsonObject().get("file").getAsString());
            byte[] bytes = Files.readAllBytes(png);
            assertEquals("\u0089PNG", new String(bytes, 0, 4, StandardCharsets.ISO_8859_1), png.toString());
            assertTrue(bytes.length > 10_000, png + " " + bytes.length + " bytes");
            assertFalse(f.getAsJsonObject().get("caption").getAsString().isBlank());
        }

        List<String> latents = Files.readAllLines(out.resolve("latents.csv"));
        assertEquals(257, latents.size());
        assertTrue(latents.get(0).startsWith("latent,class,label,norm_a,norm_b,r,delta_norm,cosine,fires,density"));
        assertTrue(latents.get(0).contains("density_code") && latents.get(0).contains("expert_kl_bits"));
        assertTrue(latents.get(1).startsWith("0,SHARED_DESIGNATED,") && latents.get(1).contains(",0.5,0.5,1.0,"),
                latents.get(1));
        assertEquals(6, Files.readAllLines(out.resolve("classes.csv")).size());
        assertTrue(Files.readAllLines(out.resolve("contexts.csv")).size() > 256);
        String report = Files.readString(out.resolve("report.md"));
        assertTrue(report.contains("## The paper's claims") && report.contains("relative_norms.png")
                && report.contains("## Routing context (MoE layer 2)"), report);
    }

    /** A store of {@code docs} documents of 32 tokens, width {@code d}; token ids r % 40 except at {@code badRow}. */
    private static void store(Path dir, String model, String tokenizer, int d, int docs, long seed, long badRow) {
        StoreSpec spec = StoreSpec.builder(new Identity(model, "0"), new Identity(tokenizer, ""))
                .hook(HOOK, d).hook("blocks.1.resid_post", d + 1).batchRows(32).shardRows(256).build();
        Random r = new Random(seed);
        try (StoreWriter w = StoreWriter.create(dir, spec, Provenance.start("test store").build())) {
            long row = 0;
            for (int doc = 0; doc < docs; doc++) {
                int[] ids = new int[32];
                float[] x = new float[32 * d];
                float[] y = new float[32 * (d + 1)];
                for (int i = 0; i < 32; i++, row++) {
                    ids[i] = row == badRow ? 39 - (int) (row % 40) : (int) (row % 40);
                }
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                w.beginDocument("doc-" + doc, doc % 2 == 0 ? "prose" : "code");
                w.append(TokenRows.of(ids).hook(HOOK, x).hook("blocks.1.resid_post", y));
                w.endDocument();
            }
        }
    }

    @Test
    void badInputsAreOneLineExit3AndWriteNothing(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("a");
        Path b = tmp.resolve("b");
        store(a, "moe", "tok", 12, 30, 1, -1);
        store(b, "dense", "tok", 12, 30, 2, -1);
        Path run = tmp.resolve("run");
        CliRun t = CliRun.of("crosscoder", "train", "--store", a.toString(), "--store", b.toString(), "--hook", HOOK,
                "--hook", HOOK, "--latents", "32", "--k", "4", "--shared", "4", "--batch", "64", "--steps", "20",
                "--no-progress", "--out", run.toString());
        assertEquals(0, t.code(), t.err());
        Path out = tmp.resolve("diff");
        CliRun ok = CliRun.of("crosscoder", "diff", run.toString(), "--out", out.toString(), "--split", "ALL",
                "--no-progress");
        assertEquals(0, ok.code(), ok.err());
        assertTrue(ok.out().contains("diffed 960 tokens"), ok.out());
        Path none = tmp.resolve("none");

        store(tmp.resolve("other-tok"), "dense", "another-tokenizer", 12, 30, 2, -1);
        assertOneLineError(diff(run, none, a, tmp.resolve("other-tok")), 3, "other-tok", "tokenizer");
        store(tmp.resolve("misaligned"), "dense", "tok", 12, 30, 2, 100);
        assertOneLineError(diff(run, none, a, tmp.resolve("misaligned")), 3, "misaligned", "row 100");
        store(tmp.resolve("shorter"), "dense", "tok", 12, 20, 2, -1);
        assertOneLineError(diff(run, none, a, tmp.resolve("shorter")), 3, "shorter", "rows");
        assertOneLineError(CliRun.of("crosscoder", "diff", run.toString(), "--out", none.toString(), "--hook", HOOK,
                "--hook", "blocks.1.resid_post", "--no-progress"), 3, "b", "width 13");
        assertOneLineError(CliRun.of("crosscoder", "diff", tmp.resolve("no-run").toString(), "--out",
                none.toString()), 3, "no-run", "no such run directory");
        // another command's output directory: the error says what diff expects
        assertOneLineError(CliRun.of("crosscoder", "diff", a.toString(), "--out", none.toString()), 3,
                a.resolve("crosscoder.safetensors") + ": file not found (is this a `crosscoder train` output directory?)");
        Path weights = run.resolve("crosscoder.safetensors");
        byte[] all = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(all, all.length / 2));
        assertOneLineError(CliRun.of("crosscoder", "diff", run.toString(), "--out", none.toString()), 3,
                "crosscoder.safetensors");
        assertFalse(Files.exists(none), "nothing written on bad input");
        // the earlier diff's outputs are untouched by the failed ones
        assertTrue(Files.exists(out.resolve("summary.json")) && Files.exists(out.resolve("report.md")));
    }

    private static CliRun diff(Path run, Path out, Path a, Path b) {
        return CliRun.of("crosscoder", "diff", run.toString(), "--out", out.toString(), "--store", a.toString(),
                "--store", b.toString(), "--no-progress");
    }
}
