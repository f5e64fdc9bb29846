package gsae.comm;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The MPI binding under a real mpirun, two ranks (two JVMs): every collective against the values
 * each rank computes itself ({@link MpiRanks}), with calls of at most 2^31 − 1 elements and with a
 * lowered limit that makes every buffer of more than 7 elements go in several calls (the split
 * that buffers of more than 2^31 − 1 elements take); and the refusal when UCX replaces the JVM's
 * signal handlers. Open MPI here; MPICH too where mpirun.mpich is installed.
 */
class MpiGroupTest {

    /** UCX's variables as ./gsae sets them. */
    static final Map<String, String> UCX_QUIET = Map.of("UCX_ERROR_SIGNALS", "", "UCX_DEBUG_SIGNO", "0");

    @Test
    void everyCollectiveOnTwoRanksOfOpenMpi() throws Exception {
        Mpirun.Result r = Mpirun.openMpi().java(2, List.of(), Map.of(), MpiRanks.class, "2147483647");
        passed(r, "Open MPI");
    }

    @Test
    void buffersLargerThanOneCallGoInPieces() throws Exception {
        Mpirun.Result r = Mpirun.openMpi().java(2, List.of(), Map.of(), MpiRanks.class, "7");
        passed(r, "Open MPI");
    }

    /** Open MPI's UCX transport, which declines a machine without InfiniBand unless told to take any device. */
    @Test
    void ucxReplacingTheJvmSignalHandlersIsRefusedInOneLine() throws Exception {
        List<String> ucx = List.of("--mca", "pml", "ucx", "--mca", "pml_ucx_devices", "any", "--mca", "pml_ucx_tls", "any", "--mca", "osc", "^ucx");
        Mpirun mpirun = Mpirun.openMpi();
        Mpirun.Result r = mpirun.java(2, ucx, Map.of("UCX_ERROR_SIGNALS", "SIGSEGV,SIGBUS,SIGFPE"), MpiRanks.class, "2147483647");
        assertTrue(r.exit() != 0, r.all());
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("gsae: ") && l.contains("UCX_ERROR_SIGNALS=") && l.contains("UCX_DEBUG_SIGNO=0")
                && l.contains("SIGSEGV")), r.all());
        passed(mpirun.java(2, ucx, UCX_QUIET, MpiRanks.class, "7"), "Open MPI");
    }

    @Test
    void everyCollectiveOnTwoRanksOfMpich() throws Exception {
        Mpirun.Result r = Mpirun.mpich().java(2, List.of(), UCX_QUIET, MpiRanks.class, "7");
        passed(r, "MPICH");
    }

    private static void passed(Mpirun.Result r, String library) {
        assertEquals(0, r.exit(), r.all());
        List<String> lines = r.out().lines().filter(l -> l.contains("checks passed")).sorted().toList();
        assertEquals(2, lines.size(), r.all());
        assertTrue(lines.get(0).startsWith("rank 0 of 2: ") && lines.get(1).startsWith("rank 1 of 2: "), r.all());
        assertTrue(lines.stream().allMatch(l -> l.contains(library)), r.all());
    }
}
