package gsae.io;

import gsae.config.SaeConfig;
import gsae.data.ShardDataset;
import gsae.ops.Params;
import gsae.ops.Scales;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Python ecosystem reads what gsae writes and gsae reads what it writes, through the official
 * safetensors library (skipped where python3 lacks it; torch is needed only for the BF16 shard).
 */
class PythonInteropTest {

    private static final int D = 6, M = 10;

    private static Params params() {
        Params p = Params.init(D, M, 7, new float[]{0.5f, -1, 2, 0, 3, -0.25f});
        for (int i = 0; i < M; i++) p.bEnc()[i] = 0.125f * i;
        return p;
    }

    /** Each exported tensor as "name shape sum" per line, as safetensors.numpy.load_file returns it. */
    private static final String DESCRIBE = """
            import sys, json
            from safetensors.numpy import load_file
            t = load_file(sys.argv[1])
            for name in sorted(t):
                a = t[name]
                print(name, list(a.shape), str(a.dtype), repr(float(a.astype('float64').sum())))
            cfg = json.load(open(sys.argv[2]))
            print('cfg', cfg['k'], cfg['beta'], cfg['grad_scale'])
            """;

    @Test
    void exportsLoadWithTheOfficialSafetensorsLibrary(@TempDir Path dir) {
        assumeTrue(Python.has("safetensors.numpy", "numpy"), "python3 with safetensors and numpy not available");
        Params p = params();
        SaeConfig cfg = SaeConfig.of(D, M, 3, 2f);
        Scales scales = new Scales(4f, 1f);
        Export.sparsify(p, cfg, scales, dir.resolve("sparsify"));
        Export.saelens(p, cfg, scales, Export.Origin.UNKNOWN, dir.resolve("saelens"));

        Python.Result sparsify = Python.run(DESCRIBE, dir.resolve("sparsify/sae.safetensors").toString(), dir.resolve("sparsify/cfg.json").toString());
        assertEquals(0, sparsify.code(), sparsify.output());
        assertEquals(String.join("\n",
                "W_dec [10, 6] float32 " + sum(p.wDec()),
                "b_dec [6] float32 " + sum(p.bDec()),
                "encoder.bias [10] float32 " + sum(p.bEnc()),
                "encoder.weight [10, 6] float32 " + sum(p.wEnc()),
                "cfg 3 2.0 4.0"), sparsify.output().strip());

        Python.Result saelens = Python.run(DESCRIBE, dir.resolve("saelens/sae_weights.safetensors").toString(), dir.resolve("saelens/cfg.json").toString());
        assertEquals(0, saelens.code(), saelens.output());
        assertEquals(String.join("\n",
                "W_dec [10, 6] float32 " + sum(p.wDec()),
                "W_enc [6, 10] float32 " + sum(p.wEnc()),
                "b_dec [6] float32 " + sum(p.bDec()),
                "b_enc [10] float32 " + sum(p.bEnc()),
                "cfg 3 2.0 4.0"), saelens.output().strip());
    }

    /** Python's repr of the float64 sum of the float32 values, computed the same way in Java. */
    private static String sum(float[] a) {
        double s = 0;
        for (float v : a) s += v;
        return Double.toString(s).replace("E", "e");
    }

    @Test
    void shardsWrittenByPythonReadBack(@TempDir Path dir) {
        assumeTrue(Python.has("safetensors.numpy", "numpy"), "python3 with safetensors and numpy not available");
        boolean torch = Python.has("torch", "safetensors.torch");
        String script = """
                import sys, numpy as np
                from safetensors.numpy import save_file
                n, d = 5, 3
                x = (np.arange(n * d, dtype=np.float32).reshape(n, d) - 7) / 4
                save_file({'activations': x, 'gradients': -x}, sys.argv[1] + '/f32.safetensors')
                save_file({'activations': x.astype(np.float16), 'gradients': (-x).astype(np.float16)}, sys.argv[1] + '/f16.safetensors')
                if sys.argv[2] == 'torch':
                    import torch
                    from safetensors.torch import save_file as save_torch
                    t = torch.from_numpy(x)
                    save_torch({'activations': t.bfloat16(), 'gradients': (-t).bfloat16()}, sys.argv[1] + '/bf16.safetensors')
                """;
        Python.Result r = Python.run(script, dir.toString(), torch ? "torch" : "numpy");
        assertEquals(0, r.code(), r.output());
        for (String name : torch ? List.of("f32", "f16", "bf16") : List.of("f32", "f16")) {
            try (ShardDataset data = ShardDataset.open(List.of(dir.resolve(name + ".safetensors")), 1, false, false)) {
                float[] x = new float[5 * 3], g = new float[5 * 3];
                data.next(x, g, 5);
                // Every value (i − 7)/4 for i < 15 is exact in f16 and bf16 (at most 9 significant bits).
                for (int i = 0; i < x.length; i++) {
                    assertEquals((i - 7) / 4f, x[i], name + " activation " + i);
                    assertEquals(-((i - 7) / 4f), g[i], name + " gradient " + i);
                }
            }
        }
    }
}
