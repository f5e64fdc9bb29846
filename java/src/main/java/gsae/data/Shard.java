package gsae.data;

import gsae.io.DataException;
import gsae.io.Npy;
import gsae.io.SafeTensors;
import gsae.tensor.HostTensor;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * One memory-mapped shard: activations [N, d] and gradients [N, d] for the same N tokens, either a
 * {@code NAME.act.npy} + {@code NAME.grad.npy} pair or one safetensors file holding tensors
 * {@code activations} and {@code gradients}. Rows convert to float32 as they are read.
 */
final class Shard implements AutoCloseable {

    private final Path actFile, gradFile;
    private final HostTensor act, grad;
    private final AutoCloseable[] mappings;

    private Shard(Path actFile, Path gradFile, HostTensor act, HostTensor grad, AutoCloseable... mappings) {
        this.actFile = actFile;
        this.gradFile = gradFile;
        this.act = act;
        this.grad = grad;
        this.mappings = mappings;
    }

    /** Opens a {@code .act.npy} / {@code .grad.npy} pair and checks that their shapes agree. */
    static Shard npyPair(Path actFile, Path gradFile) {
        Npy a = Npy.open(actFile), g;
        try {
            g = Npy.open(gradFile);
        } catch (RuntimeException e) {
            a.close();
            throw e;
        }
        return validated(new Shard(actFile, gradFile, a.tensor(), g.tensor(), a, g));
    }

    /** Opens a safetensors shard holding {@code activations} and {@code gradients}, each a 2-D float tensor. */
    static Shard safetensors(Path file) {
        SafeTensors st = SafeTensors.open(file);
        try {
            for (String name : new String[]{"activations", "gradients"}) {
                HostTensor t = st.get(name);
                if (!t.dtype().isFloat()) throw new DataException(file, "tensor '" + name + "' is " + t.dtype() + ", expected F32, F16 or BF16");
                if (t.shape().length != 2)
                    throw new DataException(file, "tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + ", expected 2-D [N, d]");
            }
        } catch (RuntimeException e) {
            st.close();
            throw e;
        }
        return validated(new Shard(file, file, st.get("activations"), st.get("gradients"), st));
    }

    /** Returns {@code s} when its tensors agree in shape, else unmaps it and throws. */
    private static Shard validated(Shard s) {
        try {
            s.checkShapes();
            return s;
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private void checkShapes() {
        boolean one = actFile.equals(gradFile);
        String gradName = one ? "tensor 'gradients'" : "gradients";
        String actName = one ? "tensor 'activations'" : "activations " + actFile.getFileName();
        if (act.shape()[0] != grad.shape()[0])
            throw new DataException(gradFile, gradName + " has " + grad.shape()[0] + " rows but " + actName + " has " + act.shape()[0]);
        if (act.shape()[1] != grad.shape()[1])
            throw new DataException(gradFile, gradName + " has width " + grad.shape()[1] + " but " + actName + " has width " + act.shape()[1]);
        if (act.shape()[1] < 1 || act.shape()[1] > Integer.MAX_VALUE)
            throw new DataException(actFile, "width " + act.shape()[1] + " is not usable (need 1 ≤ d < 2^31)");
    }

    /** Tokens in this shard. */
    long rows() {
        return act.shape()[0];
    }

    int d() {
        return (int) act.shape()[1];
    }

    /** The file to name in errors about the shard as a whole. */
    Path file() {
        return actFile;
    }

    /**
     * Converts row {@code row} into {@code x[off .. off+d)} and {@code g[off .. off+d)}.
     *
     * @param x activations, row-major   [·, d]
     * @param g gradients, row-major     [·, d]
     * @return true when every value of both rows is finite
     */
    boolean read(long row, float[] x, float[] g, int off) {
        int d = d();
        long at = row * d;
        act.dtype().toFloats(act.data(), at * act.dtype().size, x, off, d);
        grad.dtype().toFloats(grad.data(), at * grad.dtype().size, g, off, d);
        return finite(x, off, d) && finite(g, off, d);
    }

    /**
     * The error for a row {@link #read} found non-finite, naming the file (and tensor) that holds it.
     *
     * @param x the activations {@link #read} wrote, row at {@code off}   [·, d]
     */
    DataException nonFinite(long row, float[] x, int off) {
        boolean inAct = !finite(x, off, d());
        Path file = inAct ? actFile : gradFile;
        String where = actFile.equals(gradFile) ? "tensor '" + (inAct ? "activations" : "gradients") + "' row " : "row ";
        return new DataException(file, where + row + " holds NaN or Inf (--skip-nonfinite skips such rows)");
    }

    private static boolean finite(float[] v, int off, int len) {
        for (int j = off; j < off + len; j++) if (!Float.isFinite(v[j])) return false;
        return true;
    }

    @Override
    public void close() {
        for (AutoCloseable m : mappings) {
            try {
                m.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot unmap " + actFile + ": " + e.getMessage(), e);
            }
        }
    }
}
