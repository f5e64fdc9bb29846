package gsae.cli;

import gsae.cpu.ReferenceOps;
import gsae.io.SafeTensors;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Params;
import gsae.tensor.HostTensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gsae step} on the reference backend writes exactly what ReferenceOps computes when called directly. */
class StepCommandTest {

    static final int D = 7, M = 13, N = 9, K = 3, AUX_K = 2;
    static final float BETA = 0.5f, ALPHA = 0.125f;

    @TempDir
    Path dir;

    private static float[] gaussian(int count, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) v[i] = (float) Params.gaussian(rng);
        return v;
    }

    private Params params() {
        Params p = Params.init(D, M, 3, gaussian(D, 4));
        System.arraycopy(gaussian(M * D, 5), 0, p.wEnc(), 0, M * D);
        System.arraycopy(gaussian(M, 6), 0, p.bEnc(), 0, M);
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("encoder.weight", HostTensor.of(p.wEnc(), M, D));
        t.put("encoder.bias", HostTensor.of(p.bEnc(), M));
        t.put("W_dec", HostTensor.of(p.wDec(), M, D));
        t.put("b_dec", HostTensor.of(p.bDec(), D));
        SafeTensors.write(dir.resolve("P.safetensors"), t);
        return p;
    }

    private Batch batch() {
        Batch b = new Batch(N, D, gaussian(N * D, 7), gaussian(N * D, 8));
        SafeTensors.write(dir.resolve("B.safetensors"), Map.of("activations", HostTensor.of(b.x(), N, D), "gradients", HostTensor.of(b.g(), N, D)));
        return b;
    }

    private boolean[] dead() {
        boolean[] dead = new boolean[M];
        byte[] flags = new byte[M];
        for (int i : new int[]{0, 4, 5, 11}) {
            dead[i] = true;
            flags[i] = 1;
        }
        SafeTensors.write(dir.resolve("D.safetensors"), Map.of("dead", HostTensor.of(flags, M)));
        return dead;
    }

    private int run(StringWriter err, String... args) {
        String[] withVerb = new String[args.length + 1];
        withVerb[0] = "step";
        System.arraycopy(args, 0, withVerb, 1, args.length);
        return Main.commandLine(new Main()).setErr(new PrintWriter(err, true)).execute(withVerb);
    }

    private List<String> args(boolean withDead) {
        List<String> a = new ArrayList<>(List.of("--params", dir.resolve("P.safetensors").toString(), "--batch", dir.resolve("B.safetensors").toString(),
                "--k", "" + K, "--beta", "" + BETA, "--backend", "reference", "--out", dir.resolve("O.safetensors").toString()));
        if (withDead) a.addAll(List.of("--dead", dir.resolve("D.safetensors").toString(), "--aux-k", "" + AUX_K, "--aux-alpha", "" + ALPHA));
        return a;
    }

    @Test
    void matchesReferenceOpsCalledDirectly() {
        for (boolean withDead : new boolean[]{false, true}) {
            Params p = params();
            Batch b = batch();
            boolean[] dead = withDead ? dead() : null;
            StringWriter err = new StringWriter();
            assertEquals(0, run(err, args(withDead).toArray(String[]::new)), err.toString());

            ReferenceOps ops = new ReferenceOps();
            Encoded enc = ops.encodeSelect(p, b, BETA, K, dead, withDead ? AUX_K : 0);
            float[] xhat = ops.decode(p, enc.top(), true);
            Params grads = Params.zeros(D, M);
            Losses l = ops.backward(p, b, enc, xhat, ALPHA, grads);
            if (withDead) assertTrue(l.auxk() > 0, "the dead set makes AuxK non-zero");
            else assertNull(enc.aux());

            try (SafeTensors o = SafeTensors.open(dir.resolve("O.safetensors"))) {
                int[] indices = o.get("indices").toInts();
                assertArrayEquals(new long[]{N, K}, o.get("indices").shape());
                for (int n = 0; n < N; n++)
                    for (int j = 1; j < K; j++) assertTrue(indices[n * K + j - 1] < indices[n * K + j], "row " + n + " ascending");
                assertArrayEquals(enc.top().indices(), indices);
                assertArrayEquals(enc.top().values(), o.floats("values", N, K));
                assertArrayEquals(xhat, o.floats("reconstruction", N, D));
                assertArrayEquals(new float[]{(float) l.loss()}, o.floats("loss", 1));
                assertArrayEquals(new float[]{(float) l.fvu()}, o.floats("fvu", 1));
                assertArrayEquals(new float[]{(float) l.auxk()}, o.floats("auxk", 1));
                assertArrayEquals(grads.wEnc(), o.floats("grad.encoder.weight", M, D));
                assertArrayEquals(grads.bEnc(), o.floats("grad.encoder.bias", M));
                assertArrayEquals(grads.wDec(), o.floats("grad.W_dec", M, D));
                assertArrayEquals(grads.bDec(), o.floats("grad.b_dec", D));
            }
        }
    }

    @Test
    void missingParameterTensorNamesTheFile() {
        batch();
        Path p = dir.resolve("P.safetensors");
        SafeTensors.write(p, Map.of("encoder.weight", HostTensor.of(new float[M * D], M, D)));
        StringWriter err = new StringWriter();
        assertEquals(Main.USER_ERROR, run(err, args(false).toArray(String[]::new)));
        assertTrue(err.toString().startsWith("gsae: " + p + ": has no tensor 'encoder.bias'"), err.toString());
    }

    @Test
    void batchWidthMustMatchTheParameters() {
        params();
        Path b = dir.resolve("B.safetensors");
        SafeTensors.write(b, Map.of("activations", HostTensor.of(new float[4 * (D + 1)], 4, D + 1), "gradients", HostTensor.of(new float[4 * (D + 1)], 4, D + 1)));
        StringWriter err = new StringWriter();
        assertEquals(Main.USER_ERROR, run(err, args(false).toArray(String[]::new)));
        assertTrue(err.toString().contains(b + ": tensor 'activations' has width " + (D + 1) + " but the parameters have d=" + D), err.toString());
    }

    @Test
    void deadMaskMustHaveOneFlagPerLatent() {
        params();
        batch();
        Path d = dir.resolve("D.safetensors");
        SafeTensors.write(d, Map.of("dead", HostTensor.of(new byte[M - 1], M - 1)));
        StringWriter err = new StringWriter();
        assertEquals(Main.USER_ERROR, run(err, args(true).toArray(String[]::new)));
        assertTrue(err.toString().contains(d + ": tensor 'dead' is U8 [" + (M - 1) + "], expected U8 [" + M + "]"), err.toString());
    }

    @Test
    void kLargerThanTheLatentsIsRefused() {
        params();
        batch();
        List<String> a = args(false);
        a.set(a.indexOf("--k") + 1, "" + (M + 1));
        StringWriter err = new StringWriter();
        assertEquals(Main.USER_ERROR, run(err, a.toArray(String[]::new)));
        assertTrue(err.toString().contains("latents (" + M + ") must be ≥ k (" + (M + 1) + ")"), err.toString());
    }
}
