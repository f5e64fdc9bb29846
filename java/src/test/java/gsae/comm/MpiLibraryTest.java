package gsae.comm;

import gsae.config.UserError;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The library is chosen from the launcher's environment: its own family first, GSAE_MPI_LIBRARY alone when set. */
class MpiLibraryTest {

    @Test
    void openMpisLauncherLooksForOpenMpiFirst() {
        List<String> c = MpiLibrary.candidates(Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "0"));
        assertEquals("libmpi.so.40", c.get(0));
        assertTrue(c.indexOf("libmpich.so.12") > c.indexOf("/usr/lib/x86_64-linux-gnu/libmpi.so.40"), c.toString());
    }

    @Test
    void hydraLooksForMpichFirst() {
        List<String> c = MpiLibrary.candidates(Map.of("PMI_SIZE", "2", "PMI_RANK", "1", "OMPI_ALLOW_RUN_AS_ROOT", "1"));
        assertEquals("libmpi.so.12", c.get(0));
        assertTrue(c.contains("libmpich.so.12") && c.indexOf("libmpich.so.12") < c.indexOf("libmpi.so.40"), c.toString());
    }

    @Test
    void anExplicitLibraryIsTheOnlyOneTried() {
        assertEquals(List.of("/opt/mpi/lib/libmpi.so"), MpiLibrary.candidates(Map.of("GSAE_MPI_LIBRARY", " /opt/mpi/lib/libmpi.so", "PMI_SIZE", "2")));
    }

    @Test
    void aMissingLibraryIsOneLineNamingWhatWasTried() {
        UserError e = assertThrows(UserError.class, () -> MpiLibrary.load(Map.of("GSAE_MPI_LIBRARY", "/nonexistent/libmpi.so")));
        assertTrue(e.getMessage().contains("tried /nonexistent/libmpi.so") && e.getMessage().contains("GSAE_MPI_LIBRARY"), e.getMessage());
    }

    @Test
    void theRankAndSizeComeFromEitherLauncher() {
        assertEquals(3, Groups.launchedRank(Map.of("OMPI_COMM_WORLD_RANK", "3")));
        assertEquals(1, Groups.launchedRank(Map.of("PMI_RANK", "1")));
        assertEquals(0, Groups.launchedRank(Map.of()));
        assertEquals(4, Groups.launchedSize(Map.of("PMI_SIZE", "4")));
    }

    @Test
    void theLocalRankPicksTheGpuOfOneProcessPerGpu() {
        assertEquals(2, Groups.localRank(Map.of("OMPI_COMM_WORLD_LOCAL_RANK", "2", "OMPI_COMM_WORLD_RANK", "6")));
        assertEquals(1, Groups.localRank(Map.of("MPI_LOCALRANKID", "1")));
        assertEquals(0, Groups.localRank(Map.of()));
        UserError e = assertThrows(UserError.class, () -> Groups.localRank(Map.of("MPI_LOCALRANKID", "x")));
        assertTrue(e.getMessage().contains("MPI_LOCALRANKID=x"), e.getMessage());
    }
}
