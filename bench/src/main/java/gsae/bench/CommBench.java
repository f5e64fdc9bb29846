package gsae.bench;

import gsae.comm.Collectives;
import gsae.comm.ElementType;
import gsae.comm.Groups;
import gsae.comm.ReduceOp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The collectives one training step of each parallel mode makes, at one configuration, timed under
 * mpirun (not JMH: its forked JVMs cannot be MPI ranks):
 *
 * <pre>mpirun -np 2 java --enable-native-access=ALL-UNNAMED -cp bench/target/benchmarks.jar gsae.bench.CommBench [d M k N [reps]]</pre>
 *
 * Data parallel all-reduces the gradients of the four parameters (one call each: 2·M·d + M + d
 * floats), the fired flags (M ints) and the batch statistics and metrics (2·d + 7 doubles).
 * Latent sharding all-gathers each rank's local top-k (score and global index, N·k of each) and
 * all-reduces the partial x̂ (N·d floats) and d + 2 doubles; with dead latents, AuxK adds the same
 * for k_aux = d/2 and ê. Each collective: a barrier, then the call, timed on every rank; the
 * slowest rank's time is the collective's time. Heap arrays, as the training steps hand them over
 * (copied through MPI's native staging buffer); then all the gradients in one call from native
 * memory, for the cost of that copy. Totals per mode sum the medians and the minima.
 * Rank 0 prints a table: per collective the elements, the bytes each rank puts in, the bytes each
 * rank sends on a ring (all-reduce 2(P−1)/P · payload, all-gather (P−1) · payload), median and
 * min milliseconds over the repetitions.
 */
public final class CommBench {

    private record Op(String mode, String what, ElementType type, long count, Kind kind) {}

    private enum Kind { ALL_REDUCE, ALL_REDUCE_NATIVE, ALL_GATHER }

    public static void main(String[] args) {
        int d = args.length > 0 ? Integer.parseInt(args[0]) : 512, m = args.length > 1 ? Integer.parseInt(args[1]) : 8192,
                k = args.length > 2 ? Integer.parseInt(args[2]) : 32, n = args.length > 3 ? Integer.parseInt(args[3]) : 2048,
                reps = args.length > 4 ? Integer.parseInt(args[4]) : 20;
        int kAux = d / 2;
        List<Op> ops = List.of(
                new Op("data", "gradient of W_enc", ElementType.F32, (long) m * d, Kind.ALL_REDUCE),
                new Op("data", "gradient of W_dec", ElementType.F32, (long) m * d, Kind.ALL_REDUCE),
                new Op("data", "gradient of b_enc", ElementType.F32, m, Kind.ALL_REDUCE),
                new Op("data", "gradient of b_dec", ElementType.F32, d, Kind.ALL_REDUCE),
                new Op("data", "fired flags", ElementType.I32, m, Kind.ALL_REDUCE),
                new Op("data", "statistics, metrics (2d + 7)", ElementType.F64, 2L * d + 7, Kind.ALL_REDUCE),
                new Op("latents", "local top-k scores", ElementType.F32, (long) n * k, Kind.ALL_GATHER),
                new Op("latents", "local top-k indices", ElementType.I32, (long) n * k, Kind.ALL_GATHER),
                new Op("latents", "partial x^", ElementType.F32, (long) n * d, Kind.ALL_REDUCE),
                new Op("latents", "b_dec term, metrics (d + 2)", ElementType.F64, d + 2L, Kind.ALL_REDUCE),
                new Op("latents+aux", "local AuxK scores", ElementType.F32, (long) n * kAux, Kind.ALL_GATHER),
                new Op("latents+aux", "local AuxK indices", ElementType.I32, (long) n * kAux, Kind.ALL_GATHER),
                new Op("latents+aux", "partial e^", ElementType.F32, (long) n * d, Kind.ALL_REDUCE),
                new Op("native", "all four gradients in one call", ElementType.F32, 2L * m * d + m + d, Kind.ALL_REDUCE_NATIVE));
        try (Collectives g = Groups.fromEnvironment(); Arena arena = Arena.ofShared()) {
            int p = g.size();
            if (g.rank() == 0) {
                System.out.printf("CommBench d=%d M=%d k=%d N=%d k_aux=%d, P=%d ranks, %d repetitions%n", d, m, k, n, kAux, p, reps);
                System.out.printf("%-12s %-40s %-4s %12s %14s %14s %10s %10s%n", "mode", "collective", "type", "elements", "bytes/rank",
                        "ring bytes/rank", "median ms", "min ms");
            }
            Map<String, double[]> totals = new LinkedHashMap<>();
            for (Op op : ops) {
                double[] ms = time(g, arena, op, reps);
                double payload = (double) op.count * op.type.size;
                double ring = op.kind == Kind.ALL_GATHER ? (p - 1) * payload : 2.0 * (p - 1) / p * payload;
                double[] sorted = ms.clone();
                Arrays.sort(sorted);
                if (g.rank() == 0)
                    System.out.printf("%-12s %-40s %-4s %,12d %,14.0f %,14.0f %10.3f %10.3f%n", op.mode, op.what, op.type, op.count, payload, ring,
                            sorted[sorted.length / 2], sorted[0]);
                double[] t = totals.computeIfAbsent(op.mode, x -> new double[3]);
                t[0] += ring;
                t[1] += sorted[sorted.length / 2];
                t[2] += sorted[0];
            }
            if (g.rank() == 0)
                totals.forEach((mode, t) -> System.out.printf("total %-12s ring bytes/rank %,14.0f   median ms %10.3f   min ms %10.3f%n", mode, t[0], t[1], t[2]));
        }
        Groups.finish();
    }

    /** Per repetition, the slowest rank's milliseconds (after two untimed warm-up calls). */
    private static double[] time(Collectives g, Arena arena, Op op, int reps) {
        int p = g.size();
        MemorySegment buf = switch (op.kind) {
            case ALL_REDUCE_NATIVE -> arena.allocate(op.count * op.type.size, 64);
            default -> heap(op.type, op.count);
        };
        MemorySegment all = op.kind == Kind.ALL_GATHER ? heap(op.type, op.count * p) : null;
        List<Double> ms = new ArrayList<>();
        double[] slowest = new double[1];
        for (int r = -2; r < reps; r++) {
            g.barrier();
            long t0 = System.nanoTime();
            if (op.kind == Kind.ALL_GATHER) g.allGather(buf, all, op.type);
            else g.allReduce(buf, op.type, op.type == ElementType.I32 ? ReduceOp.MAX : ReduceOp.SUM);
            slowest[0] = (System.nanoTime() - t0) / 1e6;
            g.allReduce(slowest, ReduceOp.MAX);
            if (r >= 0) ms.add(slowest[0]);
        }
        return ms.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static MemorySegment heap(ElementType type, long count) {
        return switch (type) {
            case F32 -> MemorySegment.ofArray(new float[Math.toIntExact(count)]);
            case F64 -> MemorySegment.ofArray(new double[Math.toIntExact(count)]);
            case I32 -> MemorySegment.ofArray(new int[Math.toIntExact(count)]);
            case I64 -> MemorySegment.ofArray(new long[Math.toIntExact(count)]);
            case U8 -> MemorySegment.ofArray(new byte[Math.toIntExact(count)]);
        };
    }
}
