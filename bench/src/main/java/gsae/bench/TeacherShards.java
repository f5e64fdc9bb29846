package gsae.bench;

import gsae.data.Teacher;
import gsae.data.TeacherConfig;
import gsae.data.TeacherSource;
import gsae.io.Npy;
import gsae.tensor.HostTensor;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes teacher tokens at the benchmark width as one shard pair, so that `gsae train --data` can
 * train an SAE at the reference shape on teacher-like data (the embedded teacher is d = 64). The
 * teacher is {@link TeacherConfig#standard()} scaled by c = d / 64: c times the features and the
 * classes (4·d features, d/4 classes at d = 512), firing rates divided by c so that about the same 14
 * fire per token, magnitudes and read fractions unchanged.
 *
 * <pre>java -cp bench/target/benchmarks.jar gsae.bench.TeacherShards OUT_DIR D TOKENS SEED</pre>
 */
public final class TeacherShards {

    private TeacherShards() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 4) throw new IllegalArgumentException("usage: TeacherShards OUT_DIR D TOKENS SEED");
        Path out = Path.of(args[0]);
        int d = Integer.parseInt(args[1]), tokens = Integer.parseInt(args[2]);
        long seed = Long.parseLong(args[3]);
        TeacherConfig s = TeacherConfig.standard();
        if (d % s.d() != 0) throw new IllegalArgumentException("D must be a multiple of " + s.d() + ", got " + d);
        int scale = d / s.d();
        TeacherConfig cfg = new TeacherConfig(d, s.classes() * scale, s.loudInert() * scale, s.quietDecisive() * scale, s.ordinary() * scale,
                s.minRate() / scale, s.maxRate() / scale, s.loudMagnitude(), s.quietMagnitude(), s.ordinaryMagnitude(),
                s.loudRead(), s.quietRead(), s.ordinaryRead(), s.gain(), s.noise());
        TeacherSource source = new Teacher(cfg, seed).source(seed);
        float[] x = new float[tokens * d], g = new float[tokens * d];
        source.next(x, g, tokens);
        Files.createDirectories(out);
        Npy.write(out.resolve("teacher.act.npy"), HostTensor.of(x, tokens, d));
        Npy.write(out.resolve("teacher.grad.npy"), HostTensor.of(g, tokens, d));
        System.out.printf("wrote %d tokens of a d=%d teacher (%d features, %d classes) to %s%n", tokens, d, cfg.features(), cfg.classes(), out);
    }
}
