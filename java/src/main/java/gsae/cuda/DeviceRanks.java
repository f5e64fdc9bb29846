package gsae.cuda;

import gsae.comm.Collectives;
import gsae.comm.ElementType;
import gsae.comm.NcclGroup;
import gsae.comm.ReduceOp;

import java.lang.foreign.MemorySegment;
import java.util.Locale;

/**
 * The ranks of a data-parallel run on devices, one device per rank: the host group (MPI) for the
 * few scalars a step agrees on, and a device group for device buffers — NCCL on gsae's stream where
 * every rank has it, else the host group staged through host memory ({@link StagedGroup}; always on
 * the emulated device). {@code -Dgsae.cuda.collectives=auto|nccl|host} overrides the choice:
 * {@code nccl} makes a missing NCCL an error, {@code host} never uses it.
 */
final class DeviceRanks implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(DeviceRanks.class.getName());

    final Collectives host, devices;
    private final String describe;

    private DeviceRanks(Collectives host, Collectives devices, String describe) {
        this.host = host;
        this.devices = devices;
        this.describe = describe;
    }

    /** The device group of {@code host}'s ranks on {@code driver}'s device: a collective call on every rank. */
    static DeviceRanks open(Driver driver, Collectives host) {
        String choice = System.getProperty("gsae.cuda.collectives", "auto").toLowerCase(Locale.ROOT);
        if (!choice.equals("auto") && !choice.equals("nccl") && !choice.equals("host"))
            throw new IllegalArgumentException("-Dgsae.cuda.collectives must be auto, nccl or host, got " + choice);
        String why = choice.equals("host") ? "-Dgsae.cuda.collectives=host"
                : !(driver instanceof CudaContext) ? "the emulated device has no NCCL" : NcclGroup.unavailableReason(System.getenv());
        int[] everyRank = {why == null ? 1 : 0};
        host.allReduce(everyRank, ReduceOp.MIN);
        if (everyRank[0] == 1) {
            DeviceRanks r = new DeviceRanks(host, NcclGroup.open(host, ((CudaContext) driver).streamAddress()), "NCCL");
            r.log();
            return r;
        }
        if (choice.equals("nccl"))
            throw new IllegalStateException("-Dgsae.cuda.collectives=nccl, but " + (why != null ? why : "another rank cannot load NCCL"));
        DeviceRanks r = new DeviceRanks(host, new StagedGroup(driver, host), "the host group, staged through host memory (" + (why != null ? why : "another rank cannot load NCCL") + ")");
        r.log();
        return r;
    }

    private void log() {
        if (host.rank() == 0) LOG.log(System.Logger.Level.INFO, "data parallel on {0} devices: device buffers reduced over {1}", host.size(), describe);
    }

    /** What reduces the device buffers, for logs. */
    String describe() {
        return describe;
    }

    /** The global batch's rows from this rank's {@code n}. */
    long rows(int n) {
        long[] r = {n};
        host.allReduce(r, ReduceOp.SUM);
        return r[0];
    }

    /** Every rank's scalars summed, in place. */
    void sum(double[] scalars) {
        host.allReduce(scalars, ReduceOp.SUM);
    }

    /** {@code bytes} of {@code buf} from {@code offset} ← op over ranks, element by element. */
    void allReduce(DeviceBuffer buf, long offset, long bytes, ElementType type, ReduceOp op) {
        devices.allReduce(segment(buf, offset, bytes), type, op);
    }

    /** The four gradient tensors summed over ranks. */
    void sum(DeviceParams g) {
        long md = 4 * DeviceParams.weightElements(g.d(), g.m());
        allReduce(g.wEnc(), 0, md, ElementType.F32, ReduceOp.SUM);
        allReduce(g.bEnc(), 0, 4L * g.m(), ElementType.F32, ReduceOp.SUM);
        allReduce(g.wDec(), 0, md, ElementType.F32, ReduceOp.SUM);
        allReduce(g.bDec(), 0, 4L * g.d(), ElementType.F32, ReduceOp.SUM);
    }

    /** Every rank's tensors become rank 0's. */
    void fromRoot(DeviceParams p) {
        long md = 4 * DeviceParams.weightElements(p.d(), p.m());
        fromRoot(p.wEnc(), md);
        fromRoot(p.bEnc(), 4L * p.m());
        fromRoot(p.wDec(), md);
        fromRoot(p.bDec(), 4L * p.d());
    }

    /** The first {@code bytes} of every rank's {@code buf} become rank 0's. */
    void fromRoot(DeviceBuffer buf, long bytes) {
        devices.broadcast(segment(buf, 0, bytes), ElementType.U8, 0);
    }

    /** Rank 0's {@code value}, on every rank. */
    long fromRoot(long value) {
        long[] v = {value};
        host.broadcast(v, 0);
        return v[0];
    }

    @SuppressWarnings("restricted") // a device address as a segment, as the Collectives contract asks; never dereferenced on the host
    private static MemorySegment segment(DeviceBuffer buf, long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > buf.bytes())
            throw new IllegalArgumentException(bytes + " bytes at " + offset + " do not fit " + buf.what() + " (" + buf.bytes() + " bytes)");
        return MemorySegment.ofAddress(buf.address() + offset).reinterpret(bytes);
    }

    /** Releases the device group (an NCCL communicator); the host group stays open. */
    @Override
    public void close() {
        devices.close();
    }
}
