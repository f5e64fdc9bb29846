package gsae.api;

import gsae.config.BackendKind;
import gsae.config.SaeConfig;
import gsae.config.UserError;
import gsae.io.DataException;
import gsae.io.SafeTensors;
import gsae.ops.Backend;
import gsae.ops.Batch;
import gsae.ops.Encoded;
import gsae.ops.Losses;
import gsae.ops.Ops;
import gsae.ops.Params;
import gsae.tensor.Dtype;
import gsae.tensor.HostTensor;
import gsae.train.Backends;

import java.io.PrintStream;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SPEC §9's step on files ({@code gsae step}): one forward and backward pass of the chosen backend
 * on given parameters and a given batch, written out for comparison with any other
 * implementation. The batch is used as given (scales 1) and the parameters are not updated.
 */
public final class StepDump {

    private StepDump() {}

    /**
     * Reads P, B and D, runs the pass and writes O (selection, reconstruction, losses, raw gradients).
     *
     * @param params  encoder.weight [M,d], encoder.bias [M], W_dec [M,d], b_dec [d]
     * @param batch   activations [N,d] and gradients [N,d]
     * @param dead    dead [M] (U8, 1 = dead), which enables AuxK; or null
     * @param auxK    AuxK latents per token, or null for d/2 (needs {@code dead})
     * @param log     where AUTO's fallback line goes
     */
    public static void run(Path params, Path batch, Path dead, int k, float beta, Integer auxK, float auxAlpha, SaeBackend backend,
                           int threads, PrintStream log, Path out) {
        Params p = readParams(params);
        Batch b = readBatch(batch, p.d());
        boolean[] deadMask = dead == null ? null : readDead(dead, p.m());
        if (auxK != null && dead == null) throw new UserError("--aux-k needs --dead");
        SaeConfig cfg;
        try {
            cfg = new SaeConfig(p.d(), p.m(), k, beta, auxK != null ? auxK : Math.max(1, p.d() / 2), auxAlpha, SaeConfig.DEFAULT_DEAD_TOKENS);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage(), e);
        }
        try (Backend chosen = Backends.choose(BackendKind.valueOf(backend.name()), threads, log)) {
            Ops ops = chosen.ops();
            Encoded enc = ops.encodeSelect(p, b, cfg.beta(), cfg.k(), deadMask, deadMask == null ? 0 : cfg.auxK());
            float[] xhat = ops.decode(p, enc.top(), true);
            Params grads = Params.zeros(p.d(), p.m());
            Losses losses = ops.backward(p, b, enc, xhat, cfg.auxAlpha(), grads);
            write(out, b, enc, xhat, losses, grads);
        }
    }

    /** The sparsify-layout parameters; d and M come from encoder.weight. */
    private static Params readParams(Path file) {
        try (SafeTensors st = SafeTensors.open(file)) {
            long[] shape = st.get("encoder.weight").shape();
            if (shape.length != 2 || shape[0] < 1 || shape[1] < 1)
                throw new DataException(file, "tensor 'encoder.weight' has shape " + Arrays.toString(shape) + ", expected [M, d]");
            int m = Math.toIntExact(shape[0]), d = Math.toIntExact(shape[1]);
            return new Params(d, m, st.floats("encoder.weight", m, d), st.floats("encoder.bias", m),
                    st.floats("W_dec", m, d), st.floats("b_dec", d));
        }
    }

    private static Batch readBatch(Path file, int d) {
        try (SafeTensors st = SafeTensors.open(file)) {
            long[] shape = st.get("activations").shape();
            if (shape.length != 2)
                throw new DataException(file, "tensor 'activations' has shape " + Arrays.toString(shape) + ", expected [N, d]");
            if (shape[1] != d) throw new DataException(file, "tensor 'activations' has width " + shape[1] + " but the parameters have d=" + d);
            int n = Math.toIntExact(shape[0]);
            if (n < 2) throw new DataException(file, "tensor 'activations' has " + n + " rows; FVU needs a batch of at least 2");
            return new Batch(n, d, st.floats("activations", n, d), st.floats("gradients", n, d));
        }
    }

    private static boolean[] readDead(Path file, int m) {
        try (SafeTensors st = SafeTensors.open(file)) {
            HostTensor t = st.get("dead");
            if (t.dtype() != Dtype.U8 || !Arrays.equals(t.shape(), new long[]{m}))
                throw new DataException(file, "tensor 'dead' is " + t.dtype() + " " + Arrays.toString(t.shape()) + ", expected U8 [" + m + "]");
            byte[] flags = t.toBytes();
            boolean[] mask = new boolean[m];
            for (int i = 0; i < m; i++) {
                if (flags[i] != 0 && flags[i] != 1) throw new DataException(file, "tensor 'dead' holds " + flags[i] + " at " + i + ", expected 0 or 1");
                mask[i] = flags[i] == 1;
            }
            return mask;
        }
    }

    /** Writes O of SPEC §9. {@code xhat}: the reconstruction [N, d]. */
    private static void write(Path file, Batch b, Encoded enc, float[] xhat, Losses l, Params grads) {
        int n = b.n(), d = b.d(), k = enc.top().k(), m = grads.m();
        Map<String, HostTensor> t = new LinkedHashMap<>();
        t.put("indices", HostTensor.of(enc.top().indices(), n, k));
        t.put("values", HostTensor.of(enc.top().values(), n, k));
        t.put("reconstruction", HostTensor.of(xhat, n, d));
        t.put("loss", HostTensor.of(new float[]{(float) l.loss()}, 1));
        t.put("fvu", HostTensor.of(new float[]{(float) l.fvu()}, 1));
        t.put("auxk", HostTensor.of(new float[]{(float) l.auxk()}, 1));
        t.put("grad.encoder.weight", HostTensor.of(grads.wEnc(), m, d));
        t.put("grad.encoder.bias", HostTensor.of(grads.bEnc(), m));
        t.put("grad.W_dec", HostTensor.of(grads.wDec(), m, d));
        t.put("grad.b_dec", HostTensor.of(grads.bDec(), d));
        SafeTensors.write(file, t);
    }

}
